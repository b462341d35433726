// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";
import {IMembershipCard} from "./interfaces/IMembershipCard.sol";
import {TierQualification} from "./TierQualification.sol";

/**
 * @title LoyaltyPoints
 * @notice The points of a loyalty program: an ERC-20 token with role-gated issue (one recipient or many in
 * one call, each call tagged with a bytes32 reason code), holder burn, redemption burn by the perk catalog,
 * an admin-chosen transfer policy, EIP-2612 permit, pause and an optional supply cap; optionally tiers that
 * follow activity ({configureTiers}): points issued for chosen reasons count towards tier thresholds over a
 * calendar or rolling qualification period; crossing a threshold upgrades the member's card in the same
 * transaction, and a permissionless review ({reviewTiers}) applies downgrades at period boundaries.
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
 * - Balances and the total supply stay below 2**120 (2**120 - 1 is the cap when none is given): each holder's
 *   balance shares its storage word with the holder's tier qualification (qualifying points, period end and
 *   status tier; see {TierQualification}), and the total supply's word holds the tier schedule. So an issue that counts towards a
 *   tier reads and writes no slot besides those an issue writes anyway, except the qualifying reason's
 *   thresholds (one cold read, 2,100 gas); a program without tiers pays for neither (see bench/gas.py).
 * - Tiers that follow activity (see {configureTiers}): a member's *status tier* is the tier earned by
 *   qualifying points. It rises as soon as an issue crosses a threshold; at a period boundary it becomes the
 *   tier the ended period earned (so it falls only there); the card follows through
 *   {IMembershipCard-syncTiers}, which leaves a tier given by hand alone unless activity rises above it.
 */
contract LoyaltyPoints is
    TierQualification,
    ILoyaltyPoints,
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

    /// @dev The most points that may ever exist (2**120 - 1 base units): the width of a balance in its word.
    uint256 private constant _MAX_SUPPLY = _BALANCE_MASK;
    /// @dev The total supply's word: bits 0-119 the supply | 120-255 the tier schedule (0: no tiers; mode,
    /// length and the calendar period running now, see {TierQualification}). An issue reads and writes this
    /// word anyway, so learning whether the program has tiers costs it nothing, and keeping the calendar
    /// period current costs no extra write; the supply field stays below 2**120 (checked) and never carries.
    uint256 private constant _SCHEDULE_SHIFT = 120;
    /// @dev keccak256("TIER_SYNC_ROLE"): what the card must grant this token ({IMembershipCard-syncTiers}).
    bytes32 private constant _TIER_SYNC_ROLE = keccak256("TIER_SYNC_ROLE");
    /// @dev A {IMembershipCard-syncTiers} word: member | from << 160 | to << 168.
    uint256 private constant _SYNC_FROM_SHIFT = 160;
    uint256 private constant _SYNC_TO_SHIFT = 168;

    uint8 private immutable _decimals;
    uint256 private immutable _cap;
    /// @dev `_cap`, or 2**120 - 1 when there is none: one comparison checks both.
    uint256 private immutable _supplyLimit;

    /// @dev Declared first and with {Pausable} last among the bases, so it shares Pausable's `_paused` slot:
    /// a transfer reads both for one cold SLOAD (saves 2,000 gas per transfer; see bench/gas.py).
    TransferPolicy private _transferPolicy;
    /// @dev In the same slot (1 + 1 + 20 bytes): `redeemBurn` reads it with the pause flag for one cold SLOAD
    /// and skips the REDEEMER_ROLE lookup when the caller is this address (see {setRedemptionCatalog}).
    address private _redemptionCatalog;

    /// @dev A holder's balance and tier qualification, packed (see the constants above).
    mapping(address account => uint256) private _balances;
    mapping(address account => mapping(address spender => uint256)) private _allowances;
    /// @dev The total supply and the tier schedule, packed (see `_SCHEDULE_SHIFT`).
    uint256 private _supply;

    string private _name;
    string private _symbol;

    mapping(address account => bool) private _allowedRecipients;

    /// @dev The membership card whose tiers follow activity (called only when a status tier changes).
    IMembershipCard private _tierCard;
    /// @dev The tier thresholds, packed (see {TierQualification}); 0 when tiers are off.
    uint256 private _thresholds;
    /// @dev For each qualifying reason a copy of `_thresholds` (0 for any other reason): an issue learns
    /// whether its reason counts and the thresholds from one slot, one cold read instead of two.
    mapping(bytes32 reason => uint256 thresholds) private _qualifyingThresholds;
    bytes32[] private _qualifyingReasons;

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

    /// @notice Tiers follow activity on `card`, over `mode` periods (1: calendar, `length` months; 2: rolling,
    /// `length` seconds).
    event TiersConfigured(address indexed card, uint8 mode, uint32 length);

    /// @notice Tiers no longer follow activity (statuses and qualifying points stop changing).
    event TiersDisabled();

    /// @notice The thresholds are now `thresholds` (whole points; the first opens tier 1).
    event TierThresholdsUpdated(uint32[] thresholds);

    /// @notice Points issued for `reason` now count (`qualifies` true) or no longer count towards tiers.
    event QualifyingReasonUpdated(bytes32 indexed reason, bool qualifies);

    /**
     * @notice `member`'s status tier went from `previousTier` to `newTier`: up when an issue crossed a
     * threshold, down (or up) at a period boundary. The card follows ({IMembershipCard-syncTiers}).
     */
    event TierStatusChanged(address indexed member, uint8 previousTier, uint8 newTier);

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
     * @dev The constructor was given a cap above 2**120 - 1.
     * @param cap The cap given.
     * @param maxSupply 2**120 - 1, the most points that may exist.
     */
    error PointsInvalidCap(uint256 cap, uint256 maxSupply);

    /// @dev A tier function while tiers do not follow activity ({configureTiers} first).
    error PointsTiersOff();

    /// @dev {configureTiers} while tiers already follow activity ({disableTiers} first).
    error PointsTiersAlreadyOn();

    /**
     * @dev The card cannot follow these tiers: it is not a contract, has too few tiers for the thresholds, or
     * has not granted this token TIER_SYNC_ROLE.
     * @param card The card given.
     * @param thresholds The number of thresholds (tiers above tier 0 it needs).
     */
    error PointsTierCardInvalid(address card, uint256 thresholds);

    /**
     * @dev A qualifying reason that is zero, repeated, or one too many (at most 8).
     * @param reason The reason.
     */
    error PointsTierReasonInvalid(bytes32 reason);

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
     * @param cap_ Supply cap, at most 2**120 - 1; 0 means no cap but that bound.
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
    ) TierQualification(decimals_) EIP712(name_, "1") {
        if (admin == address(0)) revert PointsInvalidAdmin(address(0));
        if (transferPolicy_ > uint8(TransferPolicy.Allowlist)) revert PointsInvalidTransferPolicy(transferPolicy_);
        if (cap_ > _MAX_SUPPLY) revert PointsInvalidCap(cap_, _MAX_SUPPLY);
        _name = name_;
        _symbol = symbol_;
        _decimals = decimals_;
        _cap = cap_;
        _supplyLimit = cap_ == 0 ? _MAX_SUPPLY : cap_;
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
     * - the new total supply does not exceed the cap, or 2**120 - 1 without one ({PointsCapExceeded}).
     *
     * With tiers and a qualifying `reason`, the points count towards `to`'s tier; crossing a threshold (or the
     * first qualifying issue after a period boundary nobody reviewed yet) changes its status tier and card.
     *
     * Emits a {Transfer} event from the zero address and a {PointsIssued} event with `recipients` 1; on a
     * status change, a {TierStatusChanged} event here and the card's {TierChanged} and {MetadataUpdate}.
     */
    function issue(address to, uint256 amount, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        if (amount == 0) revert PointsZeroAmount(to);
        uint256 supplyWord = _supply;
        _checkCap((supplyWord & _BALANCE_MASK) + amount);
        uint256 schedule = supplyWord >> _SCHEDULE_SHIFT;
        // Cannot overflow: the supply field plus `amount` was just checked to stay below 2**120, so the sum
        // neither carries into the schedule bits nor lets a balance (at most the supply) reach them.
        unchecked {
            _supply = supplyWord + amount;
            if (schedule == 0) {
                // A program without tiers: today's issue, returning early so it pays for nothing else.
                _balances[to] += amount;
                emit Transfer(address(0), to, amount);
                emit PointsIssued(msg.sender, reason, 1, amount);
                return;
            }
        }
        // slither-disable-next-line timestamp (see {TierQualification-_counted})
        if (uint8(schedule) == _CALENDAR && block.timestamp >= (schedule >> _CALENDAR_END_SHIFT) & _END_MASK) {
            // The first issue of a calendar period brings the cached period up to date: a second write of a
            // warm slot (100 gas), once per period for the whole program.
            schedule = _withCalendarNow(schedule);
            _supply = ((supplyWord & _BALANCE_MASK) + amount) | (schedule << _SCHEDULE_SHIFT);
        }
        uint256 change = _credit(to, amount, schedule, _qualifyingThresholds[reason]);
        emit Transfer(address(0), to, amount);
        emit PointsIssued(msg.sender, reason, 1, amount);
        if (change != 0) {
            uint256[] memory changes = new uint256[](1);
            changes[0] = change;
            // Last, after every write: the card is the one the admin configured.
            _tierCard.syncTiers(changes);
        }
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
     * - the new total supply does not exceed the cap, or 2**120 - 1 without one ({PointsCapExceeded}).
     *
     * With tiers and a qualifying `reason`, every entry counts as an {issue} would, in order (a recipient
     * listed twice may cross two thresholds); the cards of all status changes move in one call at the end.
     *
     * Emits one {Transfer} event from the zero address per entry and one {PointsIssued} event; per status
     * change, a {TierStatusChanged} event here and the card's {TierChanged} and {MetadataUpdate}.
     */
    function issueBatch(uint256[] calldata packed, bytes32 reason) external onlyRole(ISSUER_ROLE) whenNotPaused {
        uint256 count = packed.length;
        if (count == 0) revert PointsEmptyBatch();
        // Read before the loop (today's issueBatch read it after: the same one cold read): its schedule
        // decides whether entries count towards tiers.
        uint256 supplyWord = _supply;
        uint256 schedule = _withCalendarNow(supplyWord >> _SCHEDULE_SHIFT);
        uint256 thresholds = schedule == 0 ? 0 : _qualifyingThresholds[reason];
        uint256[] memory changes;
        uint256 changed = 0;
        uint256 total = 0;
        // Two loops, so that a batch that counts towards no tier (no tiers, or a reason that does not qualify)
        // runs today's loop and pays for no per-entry branch.
        if (thresholds == 0) {
            for (uint256 i; i < count; ) {
                uint256 word = packed[i];
                address to = address(uint160(word >> _RECIPIENT_SHIFT));
                uint256 amount = word & _AMOUNT_MASK;
                if (to == address(0) || amount == 0) revert PointsInvalidBatchEntry(i, to, amount);
                // Cannot overflow: each amount is below 2**96 and a batch has far fewer than 2**160 entries, so
                // `total` stays below 2**256; a balance can only pass 2**120 (into its word's tier fields) if
                // the supply does, and the checked cap below reverts the whole call then. `i < count`.
                unchecked {
                    _balances[to] += amount;
                    total += amount;
                    ++i;
                }
                emit Transfer(address(0), to, amount);
            }
        } else {
            changes = new uint256[](count);
            for (uint256 i; i < count; ) {
                uint256 word = packed[i];
                address to = address(uint160(word >> _RECIPIENT_SHIFT));
                uint256 amount = word & _AMOUNT_MASK;
                if (to == address(0) || amount == 0) revert PointsInvalidBatchEntry(i, to, amount);
                uint256 change = _credit(to, amount, schedule, thresholds);
                // Cannot overflow: as in the loop above; `changed <= i < count`.
                unchecked {
                    if (change != 0) changes[changed++] = change;
                    total += amount;
                    ++i;
                }
                emit Transfer(address(0), to, amount);
            }
        }
        uint256 newSupply = (supplyWord & _BALANCE_MASK) + total;
        _checkCap(newSupply);
        // The schedule with its calendar cache brought up to date (the same word: no extra write).
        _supply = newSupply | (schedule << _SCHEDULE_SHIFT);
        emit PointsIssued(msg.sender, reason, count, total);
        if (changed != 0) {
            // Shortens the array to the changes made (it was allocated for one per entry): a memory array's
            // first word is its length, and `changed <= count`.
            assembly ("memory-safe") {
                mstore(changes, changed)
            }
            _tierCard.syncTiers(changes);
        }
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

    // ------------------------------------------------------------------ tiers that follow activity

    /**
     * @notice Makes `card`'s tiers follow activity: points issued for one of `reasons` count towards
     * `thresholds` (whole points; the first opens tier 1, the next tier 2 …) over qualification periods;
     * crossing a threshold upgrades the member at once, a period boundary sets the status to what the ended
     * period earned ({reviewTiers}). Transfers, burns and other reasons never count.
     * @dev Before calling, `card`'s admin grants this token TIER_SYNC_ROLE on it. The period cannot change
     * while tiers are on (periods already counted would change meaning): {disableTiers} first.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE; tiers are off ({PointsTiersAlreadyOn});
     * - `mode` is 1 (calendar) with `length` 1, 2, 3, 4, 6 or 12 (months), or 2 (rolling) with `length` at
     *   least 1 (seconds) ({PointsTierPeriodInvalid});
     * - `thresholds` are 1 to 8, non-zero, strictly increasing ({PointsTierThresholdInvalid});
     * - `card` has more tiers than thresholds and granted this token TIER_SYNC_ROLE ({PointsTierCardInvalid});
     * - `reasons` are 1 to 8, non-zero and distinct ({PointsTierReasonInvalid}).
     *
     * Emits {TiersConfigured}, {TierThresholdsUpdated} and one {QualifyingReasonUpdated} per reason.
     * @param card The program's membership card.
     * @param mode 1: calendar periods of `length` months aligned to January (12: calendar years); 2: rolling
     * periods of `length` seconds, each member's own from its first qualifying points.
     * @param length Months per calendar period, or seconds per rolling period.
     * @param thresholds Whole points to reach tiers 1, 2 … in one period.
     * @param reasons The issue reasons that count (e.g. "purchase").
     */
    function configureTiers(
        IMembershipCard card,
        uint8 mode,
        uint32 length,
        uint32[] calldata thresholds,
        bytes32[] calldata reasons
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 supplyWord = _supply;
        if (supplyWord >> _SCHEDULE_SHIFT != 0) revert PointsTiersAlreadyOn();
        uint256 schedule = _schedule(mode, length);
        uint256 packed = _packThresholds(thresholds);
        _checkTierCard(card, thresholds.length);
        uint256 reasonCount = reasons.length;
        if (reasonCount == 0) revert PointsTierReasonInvalid(bytes32(0));
        _tierCard = card;
        _thresholds = packed;
        // The supply field is kept; the schedule goes above it.
        _supply = (supplyWord & _BALANCE_MASK) | (schedule << _SCHEDULE_SHIFT);
        emit TiersConfigured(address(card), mode, length);
        emit TierThresholdsUpdated(thresholds);
        for (uint256 i; i < reasonCount; ++i) _setQualifyingReason(reasons[i], true, packed);
    }

    /**
     * @notice Changes the thresholds (whole points; the first opens tier 1). Upgrades use them at once (a
     * member already past a lowered threshold moves up at its next qualifying issue); a raised threshold
     * lowers nobody before the next period boundary, whose review uses the thresholds of that moment.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE; tiers are on ({PointsTiersOff});
     * - the rules of {configureTiers} for `thresholds` and the card's tier count.
     *
     * Emits a {TierThresholdsUpdated} event.
     */
    function setTierThresholds(uint32[] calldata thresholds) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireTiers();
        uint256 packed = _packThresholds(thresholds);
        _checkTierCard(_tierCard, thresholds.length);
        _thresholds = packed;
        // The per-reason copies must stay equal to `_thresholds` (see `_qualifyingThresholds`).
        uint256 count = _qualifyingReasons.length;
        for (uint256 i; i < count; ++i) _qualifyingThresholds[_qualifyingReasons[i]] = packed;
        emit TierThresholdsUpdated(thresholds);
    }

    /**
     * @notice Makes points issued for `reason` count (`qualifies` true) or stop counting towards tiers from
     * now on; points already counted stay. Asking for what already holds changes nothing and emits nothing.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE; tiers are on ({PointsTiersOff});
     * - `reason` is not zero, and adding it keeps at most 8 ({PointsTierReasonInvalid}).
     *
     * Emits a {QualifyingReasonUpdated} event when it changes something.
     */
    function setQualifyingReason(bytes32 reason, bool qualifies) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireTiers();
        if (reason == bytes32(0)) revert PointsTierReasonInvalid(reason);
        if ((_qualifyingThresholds[reason] != 0) == qualifies) return;
        if (qualifies) {
            _setQualifyingReason(reason, true, _thresholds);
        } else {
            _setQualifyingReason(reason, false, 0);
        }
    }

    /**
     * @notice Stops tiers following activity: issues no longer count and cards no longer move by activity
     * (cards keep their tiers; {MembershipCard-setTier} still works). Members' qualifying points stay in
     * their words and count again only if the same schedule is configured again.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE; tiers are on ({PointsTiersOff}).
     *
     * Emits a {TiersDisabled} event and a {QualifyingReasonUpdated} event per reason removed.
     */
    function disableTiers() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireTiers();
        _supply &= _BALANCE_MASK;
        delete _thresholds;
        delete _tierCard;
        while (_qualifyingReasons.length != 0) {
            _setQualifyingReason(_qualifyingReasons[_qualifyingReasons.length - 1], false, 0);
        }
        emit TiersDisabled();
    }

    /**
     * @notice Applies period boundaries to `members`: for each whose period has ended since its last
     * qualifying issue or review, the status tier becomes what the ended period earned (0 if that period
     * was not the one just before now) and qualifying points start again from 0; its card follows. Anyone
     * may call it (a keeper, the brand's CLI: `loyalty-chain member review`); running it twice in a period
     * changes nothing the second time. Members whose period has not ended, or who have nothing to lose
     * (no points counted and tier 0), are skipped without a write.
     * @dev About 5,000 gas per member whose period rolled, plus ~9,000 per card moved: keep a batch under
     * the EIP-7825 cap of 2**24 gas (the CLI sends 1,000 per transaction).
     *
     * Requirements:
     * - tiers are on ({PointsTiersOff}).
     *
     * Emits, per status change, a {TierStatusChanged} event here and the card's {TierChanged} and
     * {MetadataUpdate}.
     * @return changed How many members' status tiers changed.
     */
    function reviewTiers(address[] calldata members) external returns (uint256 changed) {
        uint256 schedule = _withCalendarNow(_requireTiers());
        uint256 thresholds = _thresholds;
        uint256 count = members.length;
        uint256[] memory changes = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            address member = members[i];
            uint256 word = _balances[member];
            // Nothing to decide: no points counted this period and tier 0 (whatever the period).
            if (word & _DECIDING == 0) continue;
            uint256 rolled = _current(word, schedule, thresholds);
            if (rolled == word) continue; // its period has not ended
            _balances[member] = rolled;
            uint256 change = _statusChange(member, word, rolled);
            // Cannot overflow: at most one change per member, `changed < count`.
            unchecked {
                if (change != 0) changes[changed++] = change;
            }
        }
        if (changed != 0) {
            // Shortens the array to the changes made (see {issueBatch}).
            assembly ("memory-safe") {
                mstore(changes, changed)
            }
            _tierCard.syncTiers(changes);
        }
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
        return _supply & _BALANCE_MASK;
    }

    /// @notice Points held by `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account] & _BALANCE_MASK;
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

    /**
     * @notice How tiers follow activity: the card, the period (`mode` 0 when tiers are off, 1 calendar in
     * months, 2 rolling in seconds; `length`), the thresholds in whole points and the qualifying reasons.
     */
    function tierSettings()
        external
        view
        returns (address card, uint8 mode, uint32 length, uint32[] memory thresholds, bytes32[] memory reasons)
    {
        uint256 schedule = _supply >> _SCHEDULE_SHIFT;
        return (
            address(_tierCard),
            uint8(schedule),
            uint32(schedule >> _LENGTH_SHIFT),
            _unpackThresholds(_thresholds),
            _qualifyingReasons
        );
    }

    /**
     * @notice `member`'s progress now: points counted this period, its status tier, the next tier and the
     * points still needed for it (`nextTier == tier` and 0 at the top, or when a lowered threshold is already
     * passed and the next qualifying issue will upgrade), and when the period ends (unix seconds; 0 for a
     * rolling period that starts with the member's first qualifying points). As of this block: a period that
     * ended shows the next one, as a review would make it.
     *
     * Requirements:
     * - tiers are on ({PointsTiersOff}).
     */
    function tierProgress(address member)
        external
        view
        returns (uint256 qualifyingPoints, uint8 tier, uint8 nextTier, uint256 pointsNeeded, uint64 periodEnd)
    {
        uint256 schedule = _withCalendarNow(_requireTiers());
        uint256 thresholds = _thresholds;
        uint256 stored = _balances[member];
        uint256 word = _current(stored, schedule, thresholds);
        qualifyingPoints = (word >> _QUALIFYING_SHIFT) & _QUALIFYING_MAX;
        tier = uint8(word >> _STATUS_SHIFT);
        uint256 next;
        (next, pointsNeeded) = _nextTier(qualifyingPoints, tier, thresholds);
        nextTier = uint8(next);
        // A rolling period starts with the member's first qualifying points: none yet, no end yet.
        if (uint8(schedule) == _CALENDAR || stored & (_END_MASK << _END_SHIFT) != 0) {
            periodEnd = uint64((word >> _END_SHIFT) & _END_MASK);
        }
    }

    /// @notice Which of `members` a {reviewTiers} call would change now (their period ended with something to
    /// decide): what the CLI asks before sending a review.
    function tierReviewDue(address[] calldata members) external view returns (bool[] memory due) {
        uint256 schedule = _withCalendarNow(_requireTiers());
        uint256 thresholds = _thresholds;
        due = new bool[](members.length);
        for (uint256 i; i < members.length; ++i) {
            uint256 word = _balances[members[i]];
            if (word & _DECIDING != 0) due[i] = _current(word, schedule, thresholds) != word;
        }
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
        uint256 fromWord = _balances[from];
        uint256 fromBalance = fromWord & _BALANCE_MASK;
        if (fromBalance < value) revert ERC20InsufficientBalance(from, fromBalance, value);
        // Cannot underflow: checked just above (so the balance field, the word's lowest, does not borrow from
        // the tier fields). Cannot overflow: the sum of all balances is the total supply, below 2**120.
        unchecked {
            _balances[from] = fromWord - value;
            _balances[to] += value;
        }
        emit Transfer(from, to, value);
    }

    function _burn(address from, uint256 amount) private {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (amount == 0) revert PointsZeroAmount(from);
        uint256 fromWord = _balances[from];
        uint256 fromBalance = fromWord & _BALANCE_MASK;
        if (fromBalance < amount) revert ERC20InsufficientBalance(from, fromBalance, amount);
        // Cannot underflow: the balance was checked just above and the total supply is at least any balance;
        // both are their words' lowest fields, so nothing above them changes.
        unchecked {
            _balances[from] = fromWord - amount;
            _supply -= amount;
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
        if (newSupply > _supplyLimit) revert PointsCapExceeded(newSupply, _supplyLimit);
    }

    /// @dev The tier schedule (mode | length << 8), or {PointsTiersOff} when there is none.
    function _requireTiers() private view returns (uint256 schedule) {
        schedule = _supply >> _SCHEDULE_SHIFT;
        if (schedule == 0) revert PointsTiersOff();
    }

    /**
     * @dev Credits `amount` to `to` (tiers are on): a plain balance credit unless the reason qualifies
     * (`thresholds` non-zero); then the points also count in `to`'s period ({TierQualification-_counted}).
     * Returns the {IMembershipCard-syncTiers} word of a status change, or 0.
     */
    function _credit(address to, uint256 amount, uint256 schedule, uint256 thresholds) private returns (uint256) {
        if (thresholds == 0) {
            // Cannot overflow: the balance stays below 2**120 (the caller checks the supply), no carry.
            unchecked {
                _balances[to] += amount;
            }
            return 0;
        }
        // `_balances[to]` read and written through its slot, hashed once: Solidity hashes the key again for
        // the write when a call (here {_counted}) separates it from the read (~60 gas on every issue).
        uint256 slot;
        uint256 word;
        assembly ("memory-safe") {
            mstore(0x00, to)
            mstore(0x20, _balances.slot)
            slot := keccak256(0x00, 0x40)
            word := sload(slot)
        }
        uint256 updated = _counted(word, amount, schedule, thresholds);
        assembly ("memory-safe") {
            sstore(slot, updated)
        }
        // slither-disable-next-line incorrect-equality (tier fields compared, not balances)
        if ((word ^ updated) >> _STATUS_SHIFT == 0) return 0; // the common case: no status change
        return _statusChange(to, word, updated);
    }

    /// @dev Emits {TierStatusChanged} for `member` going from `before`'s status to `afterwards`'s; returns the
    /// {IMembershipCard-syncTiers} word (0 when the status did not change).
    function _statusChange(address member, uint256 before, uint256 afterwards) private returns (uint256) {
        uint256 from = before >> _STATUS_SHIFT;
        uint256 to = afterwards >> _STATUS_SHIFT;
        // slither-disable-next-line incorrect-equality (tiers compared, not balances)
        if (from == to) return 0;
        emit TierStatusChanged(member, uint8(from), uint8(to));
        return uint256(uint160(member)) | (from << _SYNC_FROM_SHIFT) | (to << _SYNC_TO_SHIFT);
    }

    /// @dev `card` can show `thresholds` tiers above tier 0 and lets this token move them.
    function _checkTierCard(IMembershipCard card, uint256 thresholds) private view {
        if (
            address(card).code.length == 0 ||
            card.tierCount() <= thresholds ||
            !IAccessControl(address(card)).hasRole(_TIER_SYNC_ROLE, address(this))
        ) revert PointsTierCardInvalid(address(card), thresholds);
    }

    /// @dev Adds `reason` (with the current thresholds `packed`) or removes it (`packed` 0).
    function _setQualifyingReason(bytes32 reason, bool qualifies, uint256 packed) private {
        if (qualifies) {
            if (
                reason == bytes32(0) ||
                _qualifyingThresholds[reason] != 0 ||
                _qualifyingReasons.length >= _MAX_REASONS
            ) revert PointsTierReasonInvalid(reason);
            _qualifyingReasons.push(reason);
        } else {
            uint256 count = _qualifyingReasons.length;
            for (uint256 i; i < count; ++i) {
                if (_qualifyingReasons[i] == reason) {
                    _qualifyingReasons[i] = _qualifyingReasons[count - 1];
                    _qualifyingReasons.pop();
                    break;
                }
            }
        }
        _qualifyingThresholds[reason] = packed;
        emit QualifyingReasonUpdated(reason, qualifies);
    }
}
