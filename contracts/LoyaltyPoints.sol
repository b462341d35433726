// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";

/**
 * @title LoyaltyPoints
 * @notice The points of a loyalty program: an ERC-20 token with role-gated issue (one recipient or many in
 * one call, each call tagged with a bytes32 reason code), holder burn, redemption burn by the perk catalog,
 * an admin-chosen transfer policy, EIP-2612 permit, pause and an optional supply cap.
 *
 * @dev Note (deliberate choices):
 * - The ERC-20 core is our own (solmate-like) rather than OpenZeppelin's ERC20: OZ keeps `_balances` private
 *   and updates `_totalSupply` on every mint, so a batch issue could not update the supply once per call.
 *   Errors are OZ's EIP-6093 {IERC20Errors}; permit uses OZ {EIP712}, {Nonces} and {ECDSA}.
 * - As in OZ v5, `transferFrom` does not emit {Approval}, and an allowance of `type(uint256).max` is never
 *   decreased.
 * - Issue, transfers, burn and redemption revert while paused; `approve` and `permit` do not.
 * - Zero-value issue, burn and redemption revert ({PointsZeroAmount}); zero-value transfers are allowed (ERC-20).
 * - Transfer policy ({TransferPolicy}): `Open`, `Locked` (only issue, burn and redemption move points) or
 *   `Allowlist` (a transfer's recipient must be on the admin-kept allowlist).
 * - The redemption catalog ({setRedemptionCatalog}) is a cached REDEEMER_ROLE holder kept in the pause flag's
 *   slot, so the usual `redeemBurn` caller is recognised without the role's cold SLOAD (2,100 gas). It always
 *   holds REDEEMER_ROLE (setting it grants the role; revoking or renouncing the role clears it), so
 *   REDEEMER_ROLE alone still decides who may burn on redemption.
 */
contract LoyaltyPoints is ILoyaltyPoints, IERC20Permit, IERC20Errors, AccessControl, EIP712, Nonces, Pausable {
    /// @notice Who may move points between holders.
    enum TransferPolicy {
        Open,
        Locked,
        Allowlist
    }

    /// @notice keccak256("ISSUER_ROLE"): may issue points.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice keccak256("PAUSER_ROLE"): may pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice keccak256("REDEEMER_ROLE"): may burn a holder's points on redemption (the perk catalog).
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");

    /// @dev keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
    bytes32 private constant _PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @dev Low 96 bits of a packed issue word: the amount.
    uint256 private constant _AMOUNT_MASK = (1 << 96) - 1;
    /// @dev A packed issue word's recipient sits above the amount.
    uint256 private constant _RECIPIENT_SHIFT = 96;

    uint8 private immutable _decimals;
    uint256 private immutable _cap;

    /// @dev Declared first and with {Pausable} last among the bases, so it shares Pausable's `_paused` slot:
    /// a transfer reads both for one cold SLOAD (saves 2,000 gas per transfer; see bench/gas.py).
    TransferPolicy private _transferPolicy;
    /// @dev In the same slot (1 + 1 + 20 bytes): `redeemBurn` reads it with the pause flag for one cold SLOAD
    /// and skips the REDEEMER_ROLE lookup when the caller is this address (see {setRedemptionCatalog}).
    address private _redemptionCatalog;

    mapping(address account => uint256) private _balances;
    mapping(address account => mapping(address spender => uint256)) private _allowances;
    uint256 private _totalSupply;

    string private _name;
    string private _symbol;

    mapping(address account => bool) private _allowedRecipients;

    /**
     * @notice Points were issued by `issuer` for `reason`: `recipients` credits adding up to `total`.
     * @dev One summary per issue call; each credit also emits the standard {Transfer} from the zero address,
     * so an indexer tells reasons apart by joining on the transaction.
     */
    event PointsIssued(address indexed issuer, bytes32 indexed reason, uint256 recipients, uint256 total);

    /// @notice The admin changed the transfer policy from `previousPolicy` to `newPolicy`.
    event TransferPolicyUpdated(TransferPolicy previousPolicy, TransferPolicy newPolicy);

    /// @notice The admin added `account` to (`allowed` true) or removed it from the recipient allowlist.
    event RecipientAllowlistUpdated(address indexed account, bool allowed);

    /**
     * @notice The redemption catalog changed from `previousCatalog` to `newCatalog` (the zero address: none),
     * by {setRedemptionCatalog} or because the catalog lost REDEEMER_ROLE.
     */
    event RedemptionCatalogUpdated(address indexed previousCatalog, address indexed newCatalog);

    /**
     * @dev An issue, burn or redemption of zero points.
     * @param account The account the zero amount was for.
     */
    error PointsZeroAmount(address account);

    /**
     * @dev An issue would take the total supply above the cap.
     * @param increasedSupply The total supply the issue would have reached.
     * @param cap The supply cap.
     */
    error PointsCapExceeded(uint256 increasedSupply, uint256 cap);

    /**
     * @dev A transfer between holders while the policy is `Locked`.
     * @param from The sender.
     * @param to The recipient.
     */
    error PointsTransfersLocked(address from, address to);

    /**
     * @dev A transfer to a recipient that is not on the allowlist while the policy is `Allowlist`.
     * @param to The recipient.
     */
    error PointsRecipientNotAllowed(address to);

    /**
     * @dev A transfer policy value outside {TransferPolicy}.
     * @param policy The value given.
     */
    error PointsInvalidTransferPolicy(uint8 policy);

    /**
     * @dev The constructor was given an unusable admin.
     * @param admin The admin given.
     */
    error PointsInvalidAdmin(address admin);

    /// @dev An issue batch with no entries.
    error PointsEmptyBatch();

    /**
     * @dev A packed issue entry with a zero recipient or a zero amount.
     * @param index The position of the entry in the batch.
     * @param to The recipient decoded from the entry.
     * @param amount The amount decoded from the entry.
     */
    error PointsInvalidBatchEntry(uint256 index, address to, uint256 amount);

    /**
     * @dev A permit used after its deadline.
     * @param deadline The permit's deadline.
     */
    error ERC2612ExpiredSignature(uint256 deadline);

    /**
     * @dev A permit signed by someone other than the owner.
     * @param signer The address recovered from the signature.
     * @param owner The owner named in the permit.
     */
    error ERC2612InvalidSigner(address signer, address owner);

    /**
     * @param name_ Token name (also the EIP-712 domain name, version "1").
     * @param symbol_ Token symbol.
     * @param decimals_ Decimals shown by wallets.
     * @param cap_ Supply cap; 0 means no cap.
     * @param transferPolicy_ 0 open, 1 locked, 2 allowlist.
     * @param admin Receives DEFAULT_ADMIN_ROLE, ISSUER_ROLE and PAUSER_ROLE.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        uint256 cap_,
        uint8 transferPolicy_,
        address admin
    ) EIP712(name_, "1") {
        if (admin == address(0)) revert PointsInvalidAdmin(address(0));
        if (transferPolicy_ > uint8(TransferPolicy.Allowlist)) revert PointsInvalidTransferPolicy(transferPolicy_);
        _name = name_;
        _symbol = symbol_;
        _decimals = decimals_;
        _cap = cap_;
        _transferPolicy = TransferPolicy(transferPolicy_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ------------------------------------------------------------------ issue, burn, redeem

    /**
     * @notice Issues `amount` points to `to` for `reason` (e.g. "purchase", "referral", "birthday").
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - the token is not paused;
     * - `to` is not the zero address ({ERC20InvalidReceiver}) and `amount` is not zero ({PointsZeroAmount});
     * - the new total supply does not exceed the cap, if any ({PointsCapExceeded}).
     *
     * Emits a {Transfer} event from the zero address and a {PointsIssued} event with `recipients` 1.
     */
    function issue(address to, uint256 amount, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        if (amount == 0) revert PointsZeroAmount(to);
        uint256 newSupply = _totalSupply + amount;
        _checkCap(newSupply);
        _totalSupply = newSupply;
        // Cannot overflow: the balance is at most the total supply, whose checked sum just succeeded.
        unchecked {
            _balances[to] += amount;
        }
        emit Transfer(address(0), to, amount);
        emit PointsIssued(msg.sender, reason, 1, amount);
    }

    /**
     * @notice Issues points to many recipients in one call, all for `reason`.
     * @dev Each entry of `packed` is `(uint256(uint160(to)) << 96) | amount`, with `amount < 2**96`.
     * A recipient may appear more than once. The total supply is updated once for the whole batch.
     * About 680 fresh recipients fit under the EIP-7825 per-transaction gas cap of 2**24 (bench/gas.py).
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - the token is not paused;
     * - `packed` is not empty ({PointsEmptyBatch});
     * - no entry has a zero recipient or a zero amount ({PointsInvalidBatchEntry});
     * - the new total supply does not exceed the cap, if any ({PointsCapExceeded}).
     *
     * Emits one {Transfer} event from the zero address per entry and one {PointsIssued} event.
     */
    function issueBatch(uint256[] calldata packed, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        uint256 count = packed.length;
        if (count == 0) revert PointsEmptyBatch();
        uint256 total = 0;
        for (uint256 i; i < count; ) {
            uint256 word = packed[i];
            address to = address(uint160(word >> _RECIPIENT_SHIFT));
            uint256 amount = word & _AMOUNT_MASK;
            if (to == address(0) || amount == 0) revert PointsInvalidBatchEntry(i, to, amount);
            // Cannot overflow: each amount is below 2**96 and a batch has far fewer than 2**160 entries, so
            // `total` stays below 2**256; a balance can only wrap if `_totalSupply + total` below does, and
            // that checked sum reverts the whole call. `i < count` bounds the increment.
            unchecked {
                _balances[to] += amount;
                total += amount;
                ++i;
            }
            emit Transfer(address(0), to, amount);
        }
        uint256 newSupply = _totalSupply + total;
        _checkCap(newSupply);
        _totalSupply = newSupply;
        emit PointsIssued(msg.sender, reason, count, total);
    }

    /**
     * @notice Burns `amount` of the caller's points. Allowed under every transfer policy.
     *
     * Requirements:
     * - the token is not paused;
     * - `amount` is not zero ({PointsZeroAmount}) and the caller holds at least `amount`
     *   ({ERC20InsufficientBalance}).
     *
     * Emits a {Transfer} event to the zero address.
     */
    function burn(uint256 amount) external whenNotPaused {
        _burn(msg.sender, amount);
    }

    /// @inheritdoc ILoyaltyPoints
    /// @dev The {redemptionCatalog} is recognised from the slot the pause check reads anyway; any other
    /// caller goes through the REDEEMER_ROLE lookup. Both hold REDEEMER_ROLE (see {setRedemptionCatalog}).
    function redeemBurn(address from, uint256 amount) external {
        if (msg.sender != _redemptionCatalog) _checkRole(REDEEMER_ROLE);
        _requireNotPaused();
        _burn(from, amount);
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets who may move points between holders: 0 open, 1 locked, 2 allowlist.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE;
     * - `policy` is 0, 1 or 2 ({PointsInvalidTransferPolicy}).
     *
     * Emits a {TransferPolicyUpdated} event.
     */
    function setTransferPolicy(uint8 policy) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (policy > uint8(TransferPolicy.Allowlist)) revert PointsInvalidTransferPolicy(policy);
        TransferPolicy previous = _transferPolicy;
        _transferPolicy = TransferPolicy(policy);
        emit TransferPolicyUpdated(previous, TransferPolicy(policy));
    }

    /**
     * @notice Adds `account` to (`allowed` true) or removes it from the recipients holders may send to under
     * the allowlist policy (e.g. a charity, a partner brand's exchange).
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE;
     * - `account` is not the zero address ({ERC20InvalidReceiver}).
     *
     * Emits a {RecipientAllowlistUpdated} event.
     */
    function setRecipientAllowed(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ERC20InvalidReceiver(address(0));
        _allowedRecipients[account] = allowed;
        emit RecipientAllowlistUpdated(account, allowed);
    }

    /**
     * @notice Makes `catalog` the redemption catalog: it is granted REDEEMER_ROLE (if it lacks it) and its
     * {redeemBurn} calls skip the role lookup (about 2,100 gas less per redemption). The zero address clears
     * it. There is at most one: a previous catalog loses REDEEMER_ROLE here (a replaced catalog must not keep
     * burning points); other REDEEMER_ROLE holders keep it.
     * @dev Revoking (or renouncing) REDEEMER_ROLE from the catalog also clears it, so the catalog is always a
     * REDEEMER_ROLE holder and the role alone decides who may burn on redemption.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE.
     *
     * Emits a {RedemptionCatalogUpdated} event, a {RoleRevoked} event for a previous catalog and, if `catalog`
     * lacked the role, a {RoleGranted} event.
     * @param catalog The perk catalog contract, or the zero address for none. Granting REDEEMER_ROLE here gives
     * the admin no power it lacks: DEFAULT_ADMIN_ROLE is that role's admin.
     */
    function setRedemptionCatalog(address catalog) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address previous = _redemptionCatalog;
        _redemptionCatalog = catalog;
        emit RedemptionCatalogUpdated(previous, catalog);
        // `_redemptionCatalog` is already `catalog`, so this revocation does not clear it again.
        if (previous != address(0) && previous != catalog) _revokeRole(REDEEMER_ROLE, previous);
        if (catalog != address(0)) _grantRole(REDEEMER_ROLE, catalog);
    }

    /**
     * @notice Pauses issue, transfers, burn and redemption.
     *
     * Requirements:
     * - the caller has PAUSER_ROLE;
     * - the token is not paused ({EnforcedPause}).
     *
     * Emits a {Paused} event.
     */
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /**
     * @notice Lifts the pause.
     *
     * Requirements:
     * - the caller has PAUSER_ROLE;
     * - the token is paused ({ExpectedPause}).
     *
     * Emits an {Unpaused} event.
     */
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ ERC-20

    /**
     * @notice Moves `value` of the caller's points to `to`.
     *
     * Requirements:
     * - the token is not paused;
     * - `to` is not the zero address ({ERC20InvalidReceiver});
     * - the transfer policy allows it ({PointsTransfersLocked}, {PointsRecipientNotAllowed});
     * - the caller holds at least `value` ({ERC20InsufficientBalance}).
     *
     * Emits a {Transfer} event.
     */
    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    /**
     * @notice Moves `value` points from `from` to `to` using the caller's allowance.
     *
     * Requirements: those of {transfer} with `from` as the sender (not the zero address, {ERC20InvalidSender}),
     * and the caller's allowance from `from` is at least `value` ({ERC20InsufficientAllowance}).
     *
     * Emits a {Transfer} event (no {Approval} event).
     */
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        _spendAllowance(from, msg.sender, value);
        _transfer(from, to, value);
        return true;
    }

    /**
     * @notice Lets `spender` move up to `value` of the caller's points.
     *
     * Requirements:
     * - `spender` is not the zero address ({ERC20InvalidSpender}).
     *
     * Emits an {Approval} event.
     */
    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    /**
     * @notice Sets `spender`'s allowance over `owner`'s points to `value` from an EIP-2612 signature by `owner`.
     *
     * Requirements:
     * - `block.timestamp <= deadline` ({ERC2612ExpiredSignature});
     * - the signature is `owner`'s over the EIP-712 Permit struct with `owner`'s current nonce
     *   ({ERC2612InvalidSigner}); the nonce is used up, so a permit cannot be replayed;
     * - `spender` is not the zero address ({ERC20InvalidSpender}).
     *
     * Emits an {Approval} event.
     */
    function permit(
        address owner,
        address spender,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        // slither-disable-next-line timestamp
        if (block.timestamp > deadline) revert ERC2612ExpiredSignature(deadline);
        bytes32 structHash = keccak256(abi.encode(_PERMIT_TYPEHASH, owner, spender, value, _useNonce(owner), deadline));
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), v, r, s);
        if (signer != owner) revert ERC2612InvalidSigner(signer, owner);
        _approve(owner, spender, value);
    }

    // ------------------------------------------------------------------ views

    /// @notice The token name.
    function name() external view returns (string memory) {
        return _name;
    }

    /// @notice The token symbol.
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @notice The decimals wallets should display.
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @notice Points in existence.
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @notice Points held by `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice Points `spender` may still move from `owner`.
    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @notice The supply cap; 0 means no cap.
    function cap() external view returns (uint256) {
        return _cap;
    }

    /// @notice The current transfer policy: 0 open, 1 locked, 2 allowlist.
    function transferPolicy() external view returns (TransferPolicy) {
        return _transferPolicy;
    }

    /// @notice The redemption catalog set by {setRedemptionCatalog} (a REDEEMER_ROLE holder), or the zero address.
    function redemptionCatalog() external view returns (address) {
        return _redemptionCatalog;
    }

    /// @notice Whether holders may send to `account` under the allowlist policy.
    function isAllowedRecipient(address account) external view returns (bool) {
        return _allowedRecipients[account];
    }

    /// @notice The current permit nonce of `owner`.
    function nonces(address owner) public view override(IERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @notice The EIP-712 domain separator used by {permit}.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------------ internal

    /// @dev Clears the redemption catalog when it loses REDEEMER_ROLE (revoked or renounced).
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == REDEEMER_ROLE && account == _redemptionCatalog) {
            _redemptionCatalog = address(0);
            emit RedemptionCatalogUpdated(account, address(0));
        }
    }

    function _transfer(address from, address to, uint256 value) private whenNotPaused {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        TransferPolicy policy = _transferPolicy;
        if (policy == TransferPolicy.Locked) revert PointsTransfersLocked(from, to);
        if (policy == TransferPolicy.Allowlist && !_allowedRecipients[to]) revert PointsRecipientNotAllowed(to);
        uint256 fromBalance = _balances[from];
        if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
        // Cannot underflow: checked just above. Cannot overflow: the sum of all balances is the total supply.
        unchecked {
            _balances[from] = fromBalance - value;
            _balances[to] += value;
        }
        emit Transfer(from, to, value);
    }

    function _burn(address from, uint256 amount) private {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (amount == 0) revert PointsZeroAmount(from);
        uint256 fromBalance = _balances[from];
        if (fromBalance < amount) revert ERC20InsufficientBalance(from, fromBalance, amount);
        // Cannot underflow: the balance was checked just above and the total supply is at least any balance.
        unchecked {
            _balances[from] = fromBalance - amount;
            _totalSupply -= amount;
        }
        emit Transfer(from, address(0), amount);
    }

    function _approve(address owner, address spender, uint256 value) private {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    function _spendAllowance(address owner, address spender, uint256 value) private {
        uint256 current = _allowances[owner][spender];
        if (current != type(uint256).max) {
            if (current < value) revert ERC20InsufficientAllowance(spender, current, value);
            // Cannot underflow: checked just above.
            unchecked {
                _allowances[owner][spender] = current - value;
            }
        }
    }

    function _checkCap(uint256 newSupply) private view {
        uint256 supplyCap = _cap;
        if (supplyCap != 0 && newSupply > supplyCap) revert PointsCapExceeded(newSupply, supplyCap);
    }
}
