// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IERC7818} from "./interfaces/IERC7818.sol";
import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";

/**
 * @title ExpiringPoints
 * @notice The points of a loyalty program whose points expire (ERC-7818): each point belongs to the epoch it
 * was issued in (a fixed number of seconds or blocks, chosen at deploy) and is usable for {validityDuration}
 * epochs, that one included; then it expires. Everything else is {LoyaltyPoints}: role-gated issue (one or
 * many recipients, with a reason code), holder burn, redemption burn by the perk catalog and other
 * REDEEMER_ROLE holders (charity registry, partner exchange), transfer policy, EIP-2612 permit, pause, cap.
 * A program chooses this contract at deploy; programs whose points do not expire keep {LoyaltyPoints}.
 *
 * @dev Note (deliberate choices):
 * - Epoch `e` covers clock values `[e * epochLength, (e + 1) * epochLength)`, the clock being
 *   `block.timestamp` (TIME_BASED) or `block.number` (BLOCKS_BASED), counted from zero, so boundaries do not
 *   depend on the deploy (a 1-day epoch turns at 00:00 UTC). Points of epoch `e` expire when epoch
 *   `e + validityDuration` begins: all points of one epoch expire together (the ERC's bulk expiry).
 * - Spending is oldest first everywhere: transfer, transferFrom, burn and {redeemBurn} (so perk redemptions,
 *   gasless redemptions, donations and partner conversions) take the points closest to expiry first.
 *   Points moved by a transfer keep their epoch, so passing points between wallets never extends them.
 * - {balanceOf} is the usable balance (expired points excluded). {totalSupply} is the sum of every holder's
 *   usable balance: points of live epochs, less those burned. It drops when an epoch expires, so ERC-20's
 *   "sum of balances = total supply" holds at every block (the ERC suggests 0 or type(uint256).max because
 *   tracking it is hard; it is easy here, and the brand's outstanding liability is what reports need).
 *   {epochSupply} keeps every epoch's unspent points after expiry too: expired points are breakage.
 * - The cap bounds the usable supply; checking it reads every live epoch's supply, so a capped program
 *   pays up to `validityDuration` cold reads per issue call more than an uncapped one.
 * - Storage: one slot per holder packs all of its live epoch balances (see {_words}); expired balances are
 *   dropped lazily, the next time the slot is written. Nothing has to run when an epoch turns.
 */
contract ExpiringPoints is
    ILoyaltyPoints,
    IERC7818,
    IERC20Permit,
    IERC20Errors,
    AccessControl,
    EIP712,
    Nonces,
    Pausable
{
    /// @notice Who may move points between holders.
    enum TransferPolicy {
        Open,
        Locked,
        Allowlist
    }

    /// @dev Who a move is between, the base both slots are rebased to, and the lanes `first .. last - 1` it spends.
    struct Range {
        address from;
        address to;
        uint256 base;
        uint256 first;
        uint256 last;
    }

    /// @notice keccak256("ISSUER_ROLE"): may issue points.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice keccak256("PAUSER_ROLE"): may pause and unpause.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice keccak256("REDEEMER_ROLE"): may burn a holder's points on redemption (the perk catalog).
    bytes32 public constant REDEEMER_ROLE = keccak256("REDEEMER_ROLE");

    /// @notice Bits of a holder's slot that hold epoch balances (the low 32 bits hold the base epoch).
    uint256 public constant LANE_BITS_TOTAL = 224;
    /// @notice Each epoch balance must hold at least this many whole points (10**decimals base units each).
    uint256 public constant MIN_LANE_POINTS = 1e9;

    /// @dev keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)")
    bytes32 private constant _PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @dev Low 96 bits of a packed issue word: the amount.
    uint256 private constant _AMOUNT_MASK = (1 << 96) - 1;
    /// @dev A packed issue word's recipient sits above the amount.
    uint256 private constant _RECIPIENT_SHIFT = 96;
    /// @dev The base epoch sits in a holder's slot's low 32 bits; lanes start above it.
    uint256 private constant _BASE_BITS = 32;
    uint256 private constant _BASE_MASK = (1 << 32) - 1;

    uint8 private immutable _decimals;
    uint256 private immutable _cap;
    bool private immutable _blocksBased;
    uint256 private immutable _epochLength;
    /// @dev The validity in epochs: also the number of lanes in a holder's slot.
    uint256 private immutable _validity;
    /// @dev Bits per lane: 224 / validity, rounded down.
    uint256 private immutable _laneBits;
    uint256 private immutable _laneMask;

    /// @dev Shares Pausable's `_paused` slot, as in {LoyaltyPoints}: a transfer reads both for one cold SLOAD.
    TransferPolicy private _transferPolicy;
    /// @dev In the same slot: `redeemBurn` recognises the catalog without the REDEEMER_ROLE lookup.
    address private _redemptionCatalog;

    /**
     * @dev A holder's live epoch balances, packed in one slot so that an issue to a fresh holder is one
     * zero -> non-zero SSTORE and a transfer reads and writes the same two slots as a plain ERC-20:
     *
     *     bits 0..31                      base epoch `b`: the epoch of lane 0
     *     bits 32 + i*K .. 32 + (i+1)*K-1  lane i: the holder's points of epoch `b + i`   (i < validity)
     *
     * with K = {_laneBits} = 224 / validity. Before any read or write the slot is rebased to the oldest live
     * epoch, `currentEpoch - validity + 1` (0 early on): lanes of expired epochs are shifted out at the low
     * end and dropped, so lane `validity - 1` is the current epoch and lane 0 the next to expire. Oldest
     * first is then simply lane 0 upwards. The base only moves forward (the clock does).
     */
    mapping(address account => uint256) private _words;
    mapping(address account => mapping(address spender => uint256)) private _allowances;
    /// @dev Points of each epoch not yet burned: live ones sum to {totalSupply}; expired ones are breakage.
    mapping(uint256 epoch => uint256) private _epochSupply;

    string private _name;
    string private _symbol;

    mapping(address account => bool) private _allowedRecipients;

    /**
     * @notice Points were issued by `issuer` for `reason`: `recipients` credits adding up to `total`.
     * @dev Same signature as {LoyaltyPoints-PointsIssued}, so indexers read both tokens alike.
     */
    event PointsIssued(address indexed issuer, bytes32 indexed reason, uint256 recipients, uint256 total);

    /// @notice The admin changed the transfer policy from `previousPolicy` to `newPolicy`.
    event TransferPolicyUpdated(TransferPolicy previousPolicy, TransferPolicy newPolicy);

    /// @notice The admin added `account` to (`allowed` true) or removed it from the recipient allowlist.
    event RecipientAllowlistUpdated(address indexed account, bool allowed);

    /// @notice The redemption catalog changed from `previousCatalog` to `newCatalog` (zero: none).
    event RedemptionCatalogUpdated(address indexed previousCatalog, address indexed newCatalog);

    /// @dev An issue, burn or redemption of zero points, for `account`.
    error PointsZeroAmount(address account);

    /// @dev An issue would take the usable supply to `increasedSupply`, above `cap`.
    error PointsCapExceeded(uint256 increasedSupply, uint256 cap);

    /// @dev A transfer from `from` to `to` between holders while the policy is `Locked`.
    error PointsTransfersLocked(address from, address to);

    /// @dev A transfer to `to`, not on the allowlist, while the policy is `Allowlist`.
    error PointsRecipientNotAllowed(address to);

    /// @dev A transfer policy value outside {TransferPolicy}.
    error PointsInvalidTransferPolicy(uint8 policy);

    /// @dev The constructor was given an unusable admin.
    error PointsInvalidAdmin(address admin);

    /// @dev An issue batch with no entries.
    error PointsEmptyBatch();

    /// @dev Entry `index` of a packed issue batch has a zero recipient or a zero amount.
    error PointsInvalidBatchEntry(uint256 index, address to, uint256 amount);

    /// @dev A permit used after its `deadline`.
    error ERC2612ExpiredSignature(uint256 deadline);

    /// @dev A permit signed by `signer`, not by `owner`.
    error ERC2612InvalidSigner(address signer, address owner);

    /**
     * @dev A transfer of points of `epoch`, which has expired (ERC-7818's suggested error).
     * @param sender The holder whose points were to move.
     * @param epoch The expired epoch.
     */
    error ERC7818TransferredExpiredToken(address sender, uint256 epoch);

    /**
     * @dev The validity does not fit one slot per holder: with `validity` epochs a lane has 224 / validity
     * bits, which must hold {MIN_LANE_POINTS} whole points at the token's decimals.
     * @param validity The validity given, in epochs.
     * @param maxValidity The longest validity that fits at these decimals (0 if none).
     */
    error ExpiryValidityUnsupported(uint256 validity, uint256 maxValidity);

    /// @dev An epoch length of zero, or an epoch type other than 0 (blocks) or 1 (seconds).
    error ExpiryInvalidEpoch(uint8 epochType, uint256 epochLength);

    /// @dev The clock has passed the last epoch a holder's slot can name (2**32 - 1).
    error ExpiryClockOverflow(uint256 epoch);

    /**
     * @dev A credit would take `account`'s balance of `epoch` above what one lane holds.
     * @param account The holder credited.
     * @param epoch The epoch of the points.
     * @param balance The holder's points of that epoch before the credit.
     * @param amount The credit.
     * @param max The most one lane holds (2**(224 / validity) - 1).
     */
    error ExpiryEpochBalanceOverflow(address account, uint256 epoch, uint256 balance, uint256 amount, uint256 max);

    /**
     * @param name_ Token name (also the EIP-712 domain name, version "1").
     * @param symbol_ Token symbol.
     * @param decimals_ Decimals shown by wallets.
     * @param cap_ Cap on the usable supply; 0 means no cap.
     * @param transferPolicy_ 0 open, 1 locked, 2 allowlist.
     * @param epochType_ 0 blocks, 1 seconds ({IERC7818-EPOCH_TYPE}).
     * @param epochLength_ Blocks or seconds per epoch (e.g. 2,592,000 for 30 days).
     * @param validity_ Epochs a point stays usable, the one it was issued in included.
     * @param admin Receives DEFAULT_ADMIN_ROLE, ISSUER_ROLE and PAUSER_ROLE.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        uint256 cap_,
        uint8 transferPolicy_,
        uint8 epochType_,
        uint256 epochLength_,
        uint256 validity_,
        address admin
    ) EIP712(name_, "1") {
        if (admin == address(0)) revert PointsInvalidAdmin(address(0));
        if (transferPolicy_ > uint8(TransferPolicy.Allowlist)) revert PointsInvalidTransferPolicy(transferPolicy_);
        if (epochType_ > uint8(EPOCH_TYPE.TIME_BASED) || epochLength_ == 0) {
            revert ExpiryInvalidEpoch(epochType_, epochLength_);
        }
        uint256 maxValidity = maxValidityFor(decimals_);
        if (validity_ == 0 || validity_ > maxValidity) revert ExpiryValidityUnsupported(validity_, maxValidity);
        _name = name_;
        _symbol = symbol_;
        _decimals = decimals_;
        _cap = cap_;
        _blocksBased = epochType_ == uint8(EPOCH_TYPE.BLOCKS_BASED);
        _epochLength = epochLength_;
        _validity = validity_;
        _laneBits = LANE_BITS_TOTAL / validity_;
        _laneMask = (1 << (LANE_BITS_TOTAL / validity_)) - 1;
        _transferPolicy = TransferPolicy(transferPolicy_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /**
     * @notice The longest validity (in epochs) a token of `decimals_` decimals supports: each of its lanes
     * (224 / validity bits) must hold {MIN_LANE_POINTS} whole points. E.g. 7 at 0 decimals, 2 at 18.
     */
    function maxValidityFor(uint8 decimals_) public pure returns (uint256) {
        if (decimals_ > 58) return 0; // 10**(58 + 9) needs more than 224 bits
        uint256 needed = MIN_LANE_POINTS * 10 ** decimals_;
        uint256 bits = 1;
        // Bounded: `needed < 2**223` (decimals at most 58), so at most 223 iterations, once at deploy.
        while ((uint256(1) << bits) - 1 < needed) ++bits;
        return LANE_BITS_TOTAL / bits;
    }

    // ------------------------------------------------------------------ issue, burn, redeem

    /**
     * @notice Issues `amount` points of the current epoch to `to` for `reason`.
     *
     * Requirements:
     * - the caller has ISSUER_ROLE; the token is not paused;
     * - `to` is not the zero address ({ERC20InvalidReceiver}) and `amount` is not zero ({PointsZeroAmount});
     * - `to`'s balance of the current epoch stays within one lane ({ExpiryEpochBalanceOverflow});
     * - the new usable supply does not exceed the cap, if any ({PointsCapExceeded}).
     *
     * Emits a {Transfer} event from the zero address and a {PointsIssued} event with `recipients` 1.
     */
    function issue(address to, uint256 amount, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        if (amount == 0) revert PointsZeroAmount(to);
        (uint256 current, uint256 base) = _window();
        _addSupply(current, base, amount);
        _credit(to, amount, current, base, _BASE_BITS + (current - base) * _laneBits);
        emit Transfer(address(0), to, amount);
        emit PointsIssued(msg.sender, reason, 1, amount);
    }

    /**
     * @notice Issues points of the current epoch to many recipients in one call, all for `reason`.
     * @dev Each entry of `packed` is `(uint256(uint160(to)) << 96) | amount`, with `amount < 2**96`, as in
     * {LoyaltyPoints-issueBatch}. The epoch's supply is updated once for the whole batch.
     *
     * Requirements: those of {issue} for every entry, `packed` not empty ({PointsEmptyBatch}) and no entry
     * with a zero recipient or amount ({PointsInvalidBatchEntry}).
     *
     * Emits one {Transfer} event from the zero address per entry and one {PointsIssued} event.
     */
    function issueBatch(uint256[] calldata packed, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        uint256 count = packed.length;
        if (count == 0) revert PointsEmptyBatch();
        (uint256 current, uint256 base) = _window();
        uint256 shift = _BASE_BITS + (current - base) * _laneBits;
        uint256 total = 0;
        for (uint256 i; i < count; ) {
            uint256 word = packed[i];
            address to = address(uint160(word >> _RECIPIENT_SHIFT));
            uint256 amount = word & _AMOUNT_MASK;
            if (to == address(0) || amount == 0) revert PointsInvalidBatchEntry(i, to, amount);
            _credit(to, amount, current, base, shift);
            // Cannot overflow: each amount is below 2**96 and a batch has far fewer than 2**160 entries;
            // `i < count` bounds the increment.
            unchecked {
                total += amount;
                ++i;
            }
            emit Transfer(address(0), to, amount);
        }
        _addSupply(current, base, total);
        emit PointsIssued(msg.sender, reason, count, total);
    }

    /**
     * @notice Burns `amount` of the caller's usable points, oldest first. Allowed under every transfer policy.
     *
     * Requirements:
     * - the token is not paused;
     * - `amount` is not zero ({PointsZeroAmount}) and the caller's usable balance is at least `amount`
     *   ({ERC20InsufficientBalance}).
     *
     * Emits a {Transfer} event to the zero address.
     */
    function burn(uint256 amount) external whenNotPaused {
        _burn(msg.sender, amount);
    }

    /// @inheritdoc ILoyaltyPoints
    /// @dev Burns oldest first. The {redemptionCatalog} skips the REDEEMER_ROLE lookup, as in {LoyaltyPoints}.
    function redeemBurn(address from, uint256 amount) external {
        if (msg.sender != _redemptionCatalog) _checkRole(REDEEMER_ROLE);
        _requireNotPaused();
        _burn(from, amount);
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets who may move points between holders: 0 open, 1 locked, 2 allowlist.
     *
     * Requirements: the caller has DEFAULT_ADMIN_ROLE; `policy` is 0, 1 or 2 ({PointsInvalidTransferPolicy}).
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
     * the allowlist policy.
     *
     * Requirements: the caller has DEFAULT_ADMIN_ROLE; `account` is not zero ({ERC20InvalidReceiver}).
     *
     * Emits a {RecipientAllowlistUpdated} event.
     */
    function setRecipientAllowed(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ERC20InvalidReceiver(address(0));
        _allowedRecipients[account] = allowed;
        emit RecipientAllowlistUpdated(account, allowed);
    }

    /**
     * @notice Makes `catalog` the redemption catalog (granted REDEEMER_ROLE; its {redeemBurn} calls skip the
     * role lookup); the zero address clears it; a previous catalog loses REDEEMER_ROLE. See
     * {LoyaltyPoints-setRedemptionCatalog}.
     *
     * Requirements: the caller has DEFAULT_ADMIN_ROLE.
     *
     * Emits a {RedemptionCatalogUpdated} event, and {RoleRevoked} / {RoleGranted} events as roles change.
     */
    function setRedemptionCatalog(address catalog) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address previous = _redemptionCatalog;
        _redemptionCatalog = catalog;
        emit RedemptionCatalogUpdated(previous, catalog);
        if (previous != address(0) && previous != catalog) _revokeRole(REDEEMER_ROLE, previous);
        if (catalog != address(0)) _grantRole(REDEEMER_ROLE, catalog);
    }

    /**
     * @notice Pauses issue, transfers, burn and redemption.
     *
     * Requirements: the caller has PAUSER_ROLE; the token is not paused ({EnforcedPause}).
     *
     * Emits a {Paused} event.
     */
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /**
     * @notice Lifts the pause.
     *
     * Requirements: the caller has PAUSER_ROLE; the token is paused ({ExpectedPause}).
     *
     * Emits an {Unpaused} event.
     */
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ ERC-20 and ERC-7818 transfers

    /**
     * @notice Moves `value` of the caller's usable points to `to`, oldest first; they keep their epochs.
     *
     * Requirements:
     * - the token is not paused; `to` is not the zero address ({ERC20InvalidReceiver});
     * - the transfer policy allows it ({PointsTransfersLocked}, {PointsRecipientNotAllowed});
     * - the caller's usable balance is at least `value` ({ERC20InsufficientBalance});
     * - `to`'s balance of each epoch moved stays within one lane ({ExpiryEpochBalanceOverflow}).
     *
     * Emits a {Transfer} event.
     */
    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value, type(uint256).max);
        return true;
    }

    /**
     * @notice Moves `value` usable points from `from` to `to`, oldest first, using the caller's allowance.
     *
     * Requirements: those of {transfer} with `from` as the sender ({ERC20InvalidSender}), and an allowance
     * of at least `value` ({ERC20InsufficientAllowance}).
     *
     * Emits a {Transfer} event (no {Approval} event).
     */
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        _spendAllowance(from, msg.sender, value);
        _transfer(from, to, value, type(uint256).max);
        return true;
    }

    /**
     * @notice Moves `value` of the caller's points of `epoch` to `to`; they keep that epoch.
     *
     * Requirements: those of {transfer}, with the balance of `epoch` instead of the usable balance, and
     * `epoch` not expired ({ERC7818TransferredExpiredToken}).
     *
     * Emits a {Transfer} event.
     */
    function transferAtEpoch(uint256 epoch, address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value, epoch);
        return true;
    }

    /**
     * @notice Moves `value` of `from`'s points of `epoch` to `to` using the caller's allowance.
     *
     * Requirements: those of {transferAtEpoch} with `from` as the sender, and an allowance of at least
     * `value` ({ERC20InsufficientAllowance}).
     *
     * Emits a {Transfer} event (no {Approval} event).
     */
    function transferFromAtEpoch(uint256 epoch, address from, address to, uint256 value) external returns (bool) {
        _spendAllowance(from, msg.sender, value);
        _transfer(from, to, value, epoch);
        return true;
    }

    /**
     * @notice Lets `spender` move up to `value` of the caller's points.
     *
     * Requirements: `spender` is not the zero address ({ERC20InvalidSpender}).
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
     * Requirements: `block.timestamp <= deadline` ({ERC2612ExpiredSignature}); the signature is `owner`'s
     * over the Permit struct with `owner`'s current nonce ({ERC2612InvalidSigner}); `spender` is not zero.
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

    // ------------------------------------------------------------------ ERC-7818 views

    /// @inheritdoc IERC7818
    function balanceOfAtEpoch(uint256 epoch, address account) external view returns (uint256) {
        (uint256 current, uint256 base) = _window();
        if (epoch < base || epoch > current) return 0;
        return (_rebased(_words[account], base) >> (_BASE_BITS + (epoch - base) * _laneBits)) & _laneMask;
    }

    /// @inheritdoc IERC7818
    function currentEpoch() external view returns (uint256) {
        return _clock() / _epochLength;
    }

    /// @inheritdoc IERC7818
    function epochLength() external view returns (uint256) {
        return _epochLength;
    }

    /// @inheritdoc IERC7818
    function epochType() external view returns (EPOCH_TYPE) {
        return _blocksBased ? EPOCH_TYPE.BLOCKS_BASED : EPOCH_TYPE.TIME_BASED;
    }

    /// @inheritdoc IERC7818
    function validityDuration() external view returns (uint256) {
        return _validity;
    }

    /// @inheritdoc IERC7818
    /// @dev `epoch` has expired once epoch `epoch + validityDuration` has begun.
    function isEpochExpired(uint256 epoch) external view returns (bool) {
        (, uint256 base) = _window();
        return epoch < base;
    }

    /**
     * @notice The points of `account` closest to expiry and when they expire (ERC-7818's optional
     * `getNearestExpiryOf`): the clock value (unix seconds, or a block number when blocks-based) at which
     * their epoch expires. (0, 0) when `account` holds no usable points.
     */
    function getNearestExpiryOf(address account) external view returns (uint256 value, uint256 expiresAt) {
        (, uint256 base) = _window();
        uint256 word = _rebased(_words[account], base);
        for (uint256 i; i < _validity; ++i) {
            value = (word >> (_BASE_BITS + i * _laneBits)) & _laneMask;
            // `base` is a clock divided by the epoch length; multiplying back gives the epoch's boundary,
            // exactly, on purpose (no precision is lost that matters).
            // slither-disable-next-line divide-before-multiply
            if (value != 0) return (value, (base + i + _validity) * _epochLength);
        }
        return (0, 0);
    }

    /**
     * @notice The points issued in `epoch` and not burned: while the epoch is live, points its holders can
     * still use; once it has expired, points that expired unused (breakage).
     */
    function epochSupply(uint256 epoch) external view returns (uint256) {
        return _epochSupply[epoch];
    }

    // ------------------------------------------------------------------ ERC-20 views

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

    /// @notice Usable points in existence: the sum of every holder's {balanceOf} (expired points excluded).
    function totalSupply() external view returns (uint256) {
        (uint256 current, uint256 base) = _window();
        return _liveSupply(current, base);
    }

    /// @notice Usable points held by `account` (expired points excluded).
    function balanceOf(address account) external view returns (uint256 balance) {
        (, uint256 base) = _window();
        uint256 lanes = _rebased(_words[account], base) >> _BASE_BITS;
        for (uint256 i; i < _validity; ++i) {
            balance += (lanes >> (i * _laneBits)) & _laneMask;
        }
    }

    /// @notice Points `spender` may still move from `owner`.
    function allowance(address owner, address spender) external view returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @notice The cap on the usable supply; 0 means no cap.
    function cap() external view returns (uint256) {
        return _cap;
    }

    /// @notice The current transfer policy: 0 open, 1 locked, 2 allowlist.
    function transferPolicy() external view returns (TransferPolicy) {
        return _transferPolicy;
    }

    /// @notice The redemption catalog set by {setRedemptionCatalog}, or the zero address.
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

    /// @notice ERC-165: AccessControl's interfaces and {IERC7818}.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC7818).interfaceId || super.supportsInterface(interfaceId);
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

    function _clock() private view returns (uint256) {
        return _blocksBased ? block.number : block.timestamp;
    }

    /// @dev The current epoch and the oldest live one (the base every holder's slot is rebased to).
    function _window() private view returns (uint256 current, uint256 base) {
        current = _clock() / _epochLength;
        // Cannot underflow: the subtraction runs only when `current + 1 > _validity`.
        unchecked {
            base = current + 1 > _validity ? current + 1 - _validity : 0;
        }
        if (base > _BASE_MASK) revert ExpiryClockOverflow(current);
    }

    /**
     * @dev `word` with its base moved forward to `base`: the lanes of epochs before `base` (expired) are
     * shifted out at the low end. An empty slot becomes just `base`.
     */
    function _rebased(uint256 word, uint256 base) private view returns (uint256) {
        uint256 old = word & _BASE_MASK;
        if (old != base) {
            // `base` only grows with the clock, so `old < base`; a gap of `validity` epochs or more expires
            // every lane, and a slot without points (`word == old`) has no lane to keep.
            uint256 gap = base - old;
            if (word != old && gap < _validity) {
                return (((word >> _BASE_BITS) >> (gap * _laneBits)) << _BASE_BITS) | base;
            }
            return base;
        }
        return word;
    }

    /// @dev Adds `amount` to `to`'s lane of the current epoch (at bit `shift` of its rebased slot).
    function _credit(address to, uint256 amount, uint256 current, uint256 base, uint256 shift) private {
        uint256 word = _rebased(_words[to], base);
        uint256 lane = (word >> shift) & _laneMask;
        if (amount > _laneMask - lane) revert ExpiryEpochBalanceOverflow(to, current, lane, amount, _laneMask);
        // Cannot overflow the lane: checked just above, so nothing carries into the next lane.
        unchecked {
            _words[to] = word + (amount << shift);
        }
    }

    /// @dev Adds `amount` to the current epoch's supply, after checking the cap on the usable supply.
    function _addSupply(uint256 current, uint256 base, uint256 amount) private {
        uint256 supply = _epochSupply[current] + amount;
        uint256 supplyCap = _cap;
        if (supplyCap != 0) {
            uint256 live = _liveSupply(current, base) + amount;
            if (live > supplyCap) revert PointsCapExceeded(live, supplyCap);
        }
        _epochSupply[current] = supply;
    }

    /// @dev The supply of epochs `base` .. `current`: at most `validity` reads.
    function _liveSupply(uint256 current, uint256 base) private view returns (uint256 supply) {
        for (uint256 epoch = base; epoch <= current; ++epoch) {
            supply += _epochSupply[epoch];
        }
    }

    /**
     * @dev Moves `value` from `from` to `to`: oldest first when `epoch` is type(uint256).max, otherwise only
     * points of `epoch`. Both slots are rebased to the same base, so lane i is the same epoch on both sides.
     */
    function _transfer(address from, address to, uint256 value, uint256 epoch) private whenNotPaused {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        TransferPolicy policy = _transferPolicy;
        if (policy == TransferPolicy.Locked) revert PointsTransfersLocked(from, to);
        if (policy == TransferPolicy.Allowlist && !_allowedRecipients[to]) revert PointsRecipientNotAllowed(to);
        (uint256 base, uint256 first, uint256 last) = _lanesToSpend(from, value, epoch);
        uint256 fromWord = _rebased(_words[from], base);
        if (from == to) {
            // Nothing moves: only the balance is checked (the lanes are walked into an empty scratch word).
            _move(fromWord, 0, value, Range(from, to, base, first, last));
        } else {
            uint256 toWord;
            (fromWord, toWord) = _move(fromWord, _rebased(_words[to], base), value, Range(from, to, base, first, last));
            _words[from] = fromWord;
            _words[to] = toWord;
        }
        emit Transfer(from, to, value);
    }

    /// @dev The base and the lanes a transfer of `value` from `from` may spend: all of them, or `epoch`'s.
    function _lanesToSpend(
        address from,
        uint256 value,
        uint256 epoch
    ) private view returns (uint256 base, uint256 first, uint256 last) {
        uint256 current;
        (current, base) = _window();
        if (epoch == type(uint256).max) return (base, 0, _validity);
        if (epoch < base) revert ERC7818TransferredExpiredToken(from, epoch);
        // A future epoch has no lane and no points: only a zero value moves (nothing).
        if (epoch > current) {
            if (value != 0) revert ERC20InsufficientBalance(from, 0, value);
            return (base, 0, 0);
        }
        return (base, epoch - base, epoch - base + 1);
    }

    /// @dev Takes `value` from `fromWord`'s lanes in `r` (lowest, i.e. oldest, first) and adds it to `toWord`.
    function _move(
        uint256 fromWord,
        uint256 toWord,
        uint256 value,
        Range memory r
    ) private view returns (uint256, uint256) {
        uint256 remaining = value;
        for (uint256 i = r.first; i < r.last && remaining != 0; ++i) {
            uint256 shift = _BASE_BITS + i * _laneBits;
            uint256 lane = (fromWord >> shift) & _laneMask;
            if (lane != 0) {
                uint256 moved = lane < remaining ? lane : remaining;
                uint256 toLane = (toWord >> shift) & _laneMask;
                if (moved > _laneMask - toLane) {
                    revert ExpiryEpochBalanceOverflow(r.to, r.base + i, toLane, moved, _laneMask);
                }
                // Cannot underflow: `moved <= lane` and `moved <= remaining`; cannot carry out of `to`'s lane:
                // checked just above.
                unchecked {
                    fromWord -= moved << shift;
                    toWord += moved << shift;
                    remaining -= moved;
                }
            }
        }
        // Cannot underflow: `remaining <= value`.
        unchecked {
            if (remaining != 0) revert ERC20InsufficientBalance(r.from, value - remaining, value);
        }
        return (fromWord, toWord);
    }

    /// @dev Burns `amount` of `from`'s usable points, oldest first, and takes them off their epochs' supply.
    function _burn(address from, uint256 amount) private {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (amount == 0) revert PointsZeroAmount(from);
        (, uint256 base) = _window();
        uint256 word = _rebased(_words[from], base);
        uint256 remaining = amount;
        for (uint256 i; i < _validity && remaining != 0; ++i) {
            uint256 shift = _BASE_BITS + i * _laneBits;
            uint256 lane = (word >> shift) & _laneMask;
            if (lane != 0) {
                uint256 burned = lane < remaining ? lane : remaining;
                // Cannot underflow: `burned` is at most the lane and `remaining`, and an epoch's supply is the
                // sum of every holder's lane of that epoch.
                unchecked {
                    word -= burned << shift;
                    remaining -= burned;
                    _epochSupply[base + i] -= burned;
                }
            }
        }
        // Cannot underflow: `remaining <= amount`.
        unchecked {
            if (remaining != 0) revert ERC20InsufficientBalance(from, amount - remaining, amount);
        }
        _words[from] = word;
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
}
