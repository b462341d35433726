// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC4906} from "@openzeppelin/contracts/interfaces/IERC4906.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {ERC721Utils} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Utils.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {IERC5192} from "./interfaces/IERC5192.sol";
import {IMembershipCard} from "./interfaces/IMembershipCard.sol";

/**
 * @title MembershipCard
 * @notice The membership card of a loyalty program: an ERC-721 token, at most one per wallet, carrying an
 * ordered tier (named at deploy, lowest first) and an expiry (`validUntil`, unix seconds, 0 = never).
 * The issuer enrols members one or many at a time, changes tiers, sets expiries and revokes cards; a holder
 * may cancel their own. Soulbound mode (chosen at deploy) follows ERC-5192 and refuses transfers and
 * approvals; otherwise cards are transferable, still one per wallet, and only to a wallet that agreed to
 * receive one ({setAcceptsTransfer}).
 *
 * @dev Note (deliberate choices):
 * - Storage is one packed word per card id: owner (bits 0-159) | tier (160-167) | validUntil (168-231).
 *   A card's id is first `uint256(uint160(member))`, so enrolment writes exactly one fresh slot and the
 *   "one card per wallet" check reads that same slot. There is no per-owner balance slot.
 * - Bits 254 and 255 of the word at key `uint160(a)` are flags about address `a` (not about the card stored
 *   there): bit 255, `a` holds a card whose id is not `uint160(a)`, that id is then in `_heldElsewhere[a]`
 *   (only transfers, and re-enrolment of a wallet whose own id another wallet holds, write the flag and the
 *   mapping); bit 254, `a` agreed to receive a card by transfer ({setAcceptsTransfer}). Keeping them in
 *   the word a transfer reads anyway (to refuse a second card) makes the consent check free of extra
 *   storage reads. Bits 232-252 are about the card in the word: the hour (since 1970, rounded up) until
 *   which it is on hold after its last transfer, 0 if it never moved (see {memberCard}); kept in the word a
 *   transfer writes anyway, it costs a transfer no extra storage slot (a fresh one is 22,100 gas) and a
 *   redemption no extra read. 21 bits of hours last until the year 2209; later holds are capped there.
 * - Consent (a fix of an audit finding): without it anyone could push a card to a wallet, which then
 *   could never be enrolled (and a batch that included it would have reverted whole). A transfer needs the
 *   receiver's consent, used up by the card it lets in; {enrollBatch} skips a wallet that already holds a
 *   card and says so in {EnrolmentSkipped} instead of reverting.
 * - Holding period (a fix of an audit finding): a card lent from wallet to wallet carried its tier and
 *   its owner's limits along. A card received by transfer is reported by {memberCard} as on hold until
 *   `holdPeriod` seconds after the transfer (default 7 days, set by the admin); the catalog refuses
 *   redemptions with a card on hold, and counts wallet limits per card rather than per wallet.
 * - If the id `uint160(member)` is held by another wallet, enrolment mints id
 *   `(serial << 160) | uint160(member)` instead, with a contract-wide serial starting at 1.
 * - Enrolment does not call {IERC721Receiver-onERC721Received} (like OZ `_mint`); `safeTransferFrom` does.
 * - A transfer to a wallet that already holds a card, including its sender, reverts ({MembershipAlreadyMember});
 *   one to a wallet that did not agree to receive a card reverts ({MembershipTransferNotAccepted}).
 * - ERC-5192 is advertised through ERC-165 only in soulbound mode (marketplaces read it as "soulbound
 *   collection"); {locked} answers in both modes.
 * - {tokenURI} is `baseURI` followed by the decimal tier number (empty if no base URI is set).
 * - Tiers that follow activity: the program's points token (holding TIER_SYNC_ROLE) moves tiers through
 *   {syncTiers} as qualifying points decide; a tier set by hand ({setTier}) stays unless activity rises
 *   above it (upgrades) or it is still the tier activity gave (downgrades at a period boundary).
 */
contract MembershipCard is IMembershipCard, IERC721Metadata, IERC4906, IERC5192, IERC721Errors, AccessControl {
    using Strings for uint256;

    /// @notice keccak256("ISSUER_ROLE"): may enrol members, change tiers and expiries, revoke cards.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice keccak256("TIER_SYNC_ROLE"): may move tiers as qualifying activity decides ({syncTiers}); the
    /// program's points token when it runs tiers that follow activity.
    bytes32 public constant TIER_SYNC_ROLE = keccak256("TIER_SYNC_ROLE");

    /// @dev ERC-165 id of ERC-5192.
    bytes4 private constant _INTERFACE_ID_ERC5192 = 0xb45a3c0e;
    /// @dev ERC-165 id of ERC-4906 (fixed by the standard).
    bytes4 private constant _INTERFACE_ID_ERC4906 = 0x49064906;

    uint256 private constant _OWNER_MASK = (1 << 160) - 1;
    uint256 private constant _TIER_SHIFT = 160;
    uint256 private constant _VALID_UNTIL_SHIFT = 168;
    uint256 private constant _TIER_FIELD = uint256(type(uint8).max) << _TIER_SHIFT;
    uint256 private constant _VALID_UNTIL_FIELD = uint256(type(uint64).max) << _VALID_UNTIL_SHIFT;
    /// @dev Set in the word at key `uint160(a)` when `a` holds a card with another id (see `_heldElsewhere`).
    uint256 private constant _HOLDS_ELSEWHERE = 1 << 255;
    /// @dev Set in the word at key `uint160(a)` when `a` agreed to receive the next card by transfer.
    uint256 private constant _ACCEPTS_TRANSFER = 1 << 254;
    /// @dev A card word's hold field: the hour its hold ends (0: never moved), bits 232-252.
    uint256 private constant _HOLD_SHIFT = 232;
    uint256 private constant _HOLD_MAX_HOURS = (1 << 21) - 1;
    uint256 private constant _HOLD_FIELD = _HOLD_MAX_HOURS << _HOLD_SHIFT;
    /// @dev The flags about the address `uint160(key)` in the word at `key`; they outlive the card stored there.
    uint256 private constant _ADDRESS_FLAGS = _HOLDS_ELSEWHERE | _ACCEPTS_TRANSFER;
    /// @dev Bits of a packed enrol word that must be zero (above validUntil).
    uint256 private constant _ENROLL_UNUSED = ~uint256(0) << 232;
    /// @dev A {syncTiers} word: member (0-159) | from tier (160-167) | to tier (168-175); nothing above.
    uint256 private constant _SYNC_TO_SHIFT = 168;
    uint256 private constant _SYNC_UNUSED_SHIFT = 176;

    /// @notice The holding period a new program starts with: 7 days.
    uint64 public constant DEFAULT_HOLD_PERIOD = 7 days;

    bool private immutable _soulbound;
    uint8 private immutable _tierCount;

    string private _name;
    string private _symbol;
    string private _baseTokenURI;
    string[] private _tierNames;

    mapping(uint256 tokenId => uint256 record) private _records;
    mapping(address holder => uint256 tokenId) private _heldElsewhere;
    mapping(uint256 tokenId => address) private _tokenApprovals;
    mapping(address owner => mapping(address operator => bool)) private _operatorApprovals;
    uint96 private _serial;
    uint64 private _holdPeriod;

    /// @notice `member` was enrolled with card `tokenId` at `tier`, valid until `validUntil` (0 = never).
    event MemberEnrolled(uint256 indexed tokenId, address indexed member, uint8 tier, uint64 validUntil);

    /// @notice The tier of card `tokenId`, held by `member`, changed from `previousTier` to `newTier`.
    event TierChanged(uint256 indexed tokenId, address indexed member, uint8 previousTier, uint8 newTier);

    /// @notice The expiry of card `tokenId`, held by `member`, changed (0 = never expires).
    event ValidUntilChanged(
        uint256 indexed tokenId,
        address indexed member,
        uint64 previousValidUntil,
        uint64 newValidUntil
    );

    /// @notice `issuer` revoked card `tokenId` held by `member`.
    event CardRevoked(uint256 indexed tokenId, address indexed member, address indexed issuer);

    /// @notice `member` cancelled their card `tokenId`.
    event CardCancelled(uint256 indexed tokenId, address indexed member);

    /// @notice The admin set the base of every token URI to `baseURI`.
    event BaseURIUpdated(string baseURI);

    /// @notice {enrollBatch} left `member` out because it already holds card `tokenId`.
    event EnrolmentSkipped(address indexed member, uint256 indexed tokenId);

    /// @notice `account` agreed (`accepts` true) to receive its next card by transfer, or withdrew that.
    event TransferAcceptanceSet(address indexed account, bool accepts);

    /// @notice The admin changed how long a card received by transfer stays on hold (seconds).
    event HoldPeriodUpdated(uint64 previousPeriod, uint64 newPeriod);

    /// @notice Card `tokenId` arrived by transfer and is on hold until `holdUntil` (unix seconds).
    event CardOnHold(uint256 indexed tokenId, address indexed holder, uint64 holdUntil);

    /**
     * @dev `account` already holds a card.
     * @param account The wallet.
     * @param tokenId The card it holds.
     */
    error MembershipAlreadyMember(address account, uint256 tokenId);

    /**
     * @dev `account` holds no card.
     * @param account The wallet.
     */
    error MembershipNotMember(address account);

    /**
     * @dev A tier at or above the number of tiers.
     * @param tier The tier given.
     * @param tierCount The number of tiers.
     */
    error MembershipInvalidTier(uint256 tier, uint8 tierCount);

    /**
     * @dev The constructor was given no tier names or more than 255.
     * @param count The number of names given.
     */
    error MembershipInvalidTierCount(uint256 count);

    /**
     * @dev The constructor was given an unusable admin.
     * @param admin The admin given.
     */
    error MembershipInvalidAdmin(address admin);

    /**
     * @dev An enrolment with an expiry already in the past.
     * @param validUntil The expiry given.
     * @param timestamp The current block timestamp.
     */
    error MembershipExpiryInPast(uint256 validUntil, uint256 timestamp);

    /**
     * @dev A transfer or approval of a card in soulbound mode.
     * @param tokenId The card (0 for {setApprovalForAll}).
     */
    error MembershipSoulbound(uint256 tokenId);

    /// @dev A batch with no entries.
    error MembershipEmptyBatch();

    /**
     * @dev A transfer to a wallet that did not agree to receive a card ({setAcceptsTransfer}).
     * @param to The receiver.
     */
    error MembershipTransferNotAccepted(address to);

    /**
     * @dev A packed batch word with bits set outside its documented fields.
     * @param index The position of the word in the batch.
     * @param word The word.
     */
    error MembershipInvalidBatchEntry(uint256 index, uint256 word);

    /**
     * @param name_ Collection name.
     * @param symbol_ Collection symbol.
     * @param tierNames Tier names, ordered lowest first; 1 to 255 of them.
     * @param soulbound_ Whether cards are soulbound (ERC-5192 locked, transfers refused).
     * @param baseURI_ Base of every token URI (may be empty).
     * @param admin Receives DEFAULT_ADMIN_ROLE and ISSUER_ROLE.
     */
    constructor(
        string memory name_,
        string memory symbol_,
        string[] memory tierNames,
        bool soulbound_,
        string memory baseURI_,
        address admin
    ) {
        if (admin == address(0)) revert MembershipInvalidAdmin(address(0));
        uint256 count = tierNames.length;
        if (count == 0 || count > type(uint8).max) revert MembershipInvalidTierCount(count);
        _name = name_;
        _symbol = symbol_;
        _baseTokenURI = baseURI_;
        _tierNames = tierNames;
        _tierCount = uint8(count);
        _soulbound = soulbound_;
        _holdPeriod = DEFAULT_HOLD_PERIOD;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
    }

    // ------------------------------------------------------------------ issuer

    /// @inheritdoc IMembershipCard
    function enroll(
        address member,
        uint8 tier,
        uint64 validUntil
    ) external onlyRole(ISSUER_ROLE) returns (uint256 tokenId) {
        return _enroll(member, tier, validUntil, false);
    }

    /**
     * @notice Enrols many members in one call.
     * @dev Each word of `packed` is `uint256(uint160(member)) | (uint256(tier) << 160) | (uint256(validUntil) << 168)`;
     * bits 232-255 must be zero. New members whose id is free cost one fresh storage slot each; about 615 fit
     * under the EIP-7825 per-transaction gas cap of 2**24 (bench/gas.py).
     *
     * A member who already holds a card is skipped, not refused: anyone can get a card to a wallet (a Merkle
     * claim, a transfer it agreed to) between the brand's reading and its batch being mined, and one such
     * wallet must not revert the enrolment of all the others.
     *
     * Requirements: those of {enroll} for every entry except holding no card, `packed` not empty
     * ({MembershipEmptyBatch}) and no stray bits ({MembershipInvalidBatchEntry}).
     *
     * Emits, per entry, a {Transfer} event from the zero address, a {MemberEnrolled} event and, in soulbound
     * mode, a {Locked} event; or, for a member who already holds a card, an {EnrolmentSkipped} event.
     */
    function enrollBatch(uint256[] calldata packed) external onlyRole(ISSUER_ROLE) {
        uint256 count = packed.length;
        if (count == 0) revert MembershipEmptyBatch();
        for (uint256 i; i < count; ) {
            uint256 word = packed[i];
            if (word & _ENROLL_UNUSED != 0) revert MembershipInvalidBatchEntry(i, word);
            _enroll(address(uint160(word)), (word >> _TIER_SHIFT) & 0xff, word >> _VALID_UNTIL_SHIFT, true);
            // Cannot overflow: i < count.
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @notice Moves `member`'s card to `tier`.
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - `member` holds a card ({MembershipNotMember});
     * - `tier < tierCount()` ({MembershipInvalidTier}).
     *
     * Emits a {TierChanged} and an ERC-4906 {MetadataUpdate} event.
     */
    function setTier(address member, uint8 tier) external onlyRole(ISSUER_ROLE) {
        _setTier(member, tier);
    }

    /**
     * @notice Changes the tiers of many members in one call.
     * @dev Each word of `packed` is `uint256(uint160(member)) | (uint256(tier) << 160)`; bits 168-255 must be zero.
     *
     * Requirements: those of {setTier} for every entry, `packed` not empty ({MembershipEmptyBatch}) and no
     * stray bits ({MembershipInvalidBatchEntry}).
     *
     * Emits a {TierChanged} and a {MetadataUpdate} event per entry.
     */
    function setTierBatch(uint256[] calldata packed) external onlyRole(ISSUER_ROLE) {
        uint256 count = packed.length;
        if (count == 0) revert MembershipEmptyBatch();
        for (uint256 i; i < count; ) {
            uint256 word = packed[i];
            if (word >> _VALID_UNTIL_SHIFT != 0) revert MembershipInvalidBatchEntry(i, word);
            _setTier(address(uint160(word)), word >> _TIER_SHIFT);
            // Cannot overflow: i < count.
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @notice Moves cards as qualifying activity decided (called by the points token, see
     * {LoyaltyPoints-configureTiers}). Each word of `changes` is
     * `uint256(uint160(member)) | (uint256(from) << 160) | (uint256(to) << 168)`: the member's status tier
     * went from `from` to `to`. A tier set by hand ({setTier}) is an exception activity respects:
     * - an upgrade (`to > from`) raises the card to `to` only if it is below `to` (a higher tier given by
     *   hand stays);
     * - a downgrade (`to < from`) lowers the card to `to` only if it is still at `from` (a tier changed by
     *   hand since is left alone).
     * A member without a card is skipped: its status lives in the points token until it has one.
     *
     * Requirements:
     * - the caller has TIER_SYNC_ROLE;
     * - `changes` is not empty ({MembershipEmptyBatch}), has no stray bits above bit 175
     *   ({MembershipInvalidBatchEntry}) and every `to` is below {tierCount} ({MembershipInvalidTier}).
     *
     * Emits a {TierChanged} and a {MetadataUpdate} event per card moved.
     */
    function syncTiers(uint256[] calldata changes) external onlyRole(TIER_SYNC_ROLE) {
        uint256 count = changes.length;
        if (count == 0) revert MembershipEmptyBatch();
        for (uint256 i; i < count; ) {
            uint256 word = changes[i];
            if (word >> _SYNC_UNUSED_SHIFT != 0) revert MembershipInvalidBatchEntry(i, word);
            _syncTier(address(uint160(word)), (word >> _TIER_SHIFT) & 0xff, word >> _SYNC_TO_SHIFT);
            // Cannot overflow: i < count.
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @notice Sets when `member`'s card expires (renewal or a new expiry); 0 means never. A past value is
     * allowed and suspends the card until renewed (it stays the wallet's one card).
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - `member` holds a card ({MembershipNotMember}).
     *
     * Emits a {ValidUntilChanged} event.
     */
    function setValidUntil(address member, uint64 validUntil) external onlyRole(ISSUER_ROLE) {
        _setValidUntil(member, validUntil);
    }

    /**
     * @notice Sets the expiries of many members in one call.
     * @dev Each word of `packed` is `uint256(uint160(member)) | (uint256(validUntil) << 168)` (the enrol layout
     * with the tier bits 160-167 zero); bits 160-167 and 232-255 must be zero.
     *
     * Requirements: those of {setValidUntil} for every entry, `packed` not empty ({MembershipEmptyBatch}) and
     * no stray bits ({MembershipInvalidBatchEntry}).
     *
     * Emits a {ValidUntilChanged} event per entry.
     */
    function setValidUntilBatch(uint256[] calldata packed) external onlyRole(ISSUER_ROLE) {
        uint256 count = packed.length;
        if (count == 0) revert MembershipEmptyBatch();
        for (uint256 i; i < count; ) {
            uint256 word = packed[i];
            if (word & (_ENROLL_UNUSED | _TIER_FIELD) != 0) revert MembershipInvalidBatchEntry(i, word);
            _setValidUntil(address(uint160(word)), word >> _VALID_UNTIL_SHIFT);
            // Cannot overflow: i < count.
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @notice Revokes (burns) `member`'s card.
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - `member` holds a card ({MembershipNotMember}).
     *
     * Emits a {Transfer} event to the zero address and a {CardRevoked} event.
     */
    function revoke(address member) external onlyRole(ISSUER_ROLE) {
        uint256 tokenId = _burn(member);
        emit CardRevoked(tokenId, member, msg.sender);
    }

    // ------------------------------------------------------------------ holder

    /**
     * @notice Cancels (burns) the caller's own card.
     *
     * Requirements:
     * - the caller holds a card ({MembershipNotMember}).
     *
     * Emits a {Transfer} event to the zero address and a {CardCancelled} event.
     */
    function cancel() external {
        uint256 tokenId = _burn(msg.sender);
        emit CardCancelled(tokenId, msg.sender);
    }

    /**
     * @notice Agrees (`accepts` true) to receive a card by transfer, or withdraws that agreement. The
     * agreement is used up by the card it lets in. Enrolment by the issuer needs no agreement.
     *
     * Requirements:
     * - the cards are not soulbound ({MembershipSoulbound}).
     *
     * Emits a {TransferAcceptanceSet} event.
     */
    function setAcceptsTransfer(bool accepts) external {
        if (_soulbound) revert MembershipSoulbound(0);
        uint256 key = uint160(msg.sender);
        uint256 home = _records[key];
        _records[key] = accepts ? home | _ACCEPTS_TRANSFER : home & ~_ACCEPTS_TRANSFER;
        emit TransferAcceptanceSet(msg.sender, accepts);
    }

    // ------------------------------------------------------------------ admin

    /**
     * @notice Sets how long a card received by transfer stays on hold (seconds; the end is rounded up to a
     * whole hour; 0 = no hold). Applies to transfers made after the change.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE.
     *
     * Emits a {HoldPeriodUpdated} event.
     */
    function setHoldPeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint64 previous = _holdPeriod;
        _holdPeriod = period;
        emit HoldPeriodUpdated(previous, period);
    }

    /**
     * @notice Sets the base of every token URI (a card's URI is the base followed by its tier number).
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE.
     *
     * Emits a {BaseURIUpdated} event and an ERC-4906 {BatchMetadataUpdate} event over all ids.
     */
    function setBaseURI(string calldata baseURI_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _baseTokenURI = baseURI_;
        emit BaseURIUpdated(baseURI_);
        emit BatchMetadataUpdate(0, type(uint256).max);
    }

    // ------------------------------------------------------------------ ERC-721

    /**
     * @notice Moves card `tokenId` from `from` to `to`.
     *
     * Requirements:
     * - the card is not soulbound ({MembershipSoulbound});
     * - `to` is not the zero address ({ERC721InvalidReceiver}) and holds no card ({MembershipAlreadyMember});
     * - `to` agreed to receive a card ({setAcceptsTransfer}, {MembershipTransferNotAccepted}); the agreement
     *   is used up;
     * - `tokenId` exists ({ERC721NonexistentToken}) and is owned by `from` ({ERC721IncorrectOwner});
     * - the caller is the owner, approved for `tokenId`, or an operator of the owner ({ERC721InsufficientApproval}).
     *
     * The card is then on hold for {holdPeriod} seconds (see {memberCard}).
     *
     * Emits a {Transfer} event and a {CardOnHold} event.
     */
    function transferFrom(address from, address to, uint256 tokenId) public {
        _transfer(from, to, tokenId);
    }

    /**
     * @notice Like {transferFrom}, then, if `to` is a contract, requires it to accept the card through
     * {IERC721Receiver-onERC721Received} ({ERC721InvalidReceiver}).
     *
     * Emits a {Transfer} event.
     */
    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    /**
     * @notice Like {transferFrom}, then, if `to` is a contract, requires it to accept the card through
     * {IERC721Receiver-onERC721Received} called with `data` ({ERC721InvalidReceiver}).
     *
     * Emits a {Transfer} event.
     */
    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        _transfer(from, to, tokenId);
        ERC721Utils.checkOnERC721Received(msg.sender, from, to, tokenId, data);
    }

    /**
     * @notice Lets `to` transfer card `tokenId` (the zero address clears the approval).
     *
     * Requirements:
     * - the card is not soulbound ({MembershipSoulbound});
     * - `tokenId` exists ({ERC721NonexistentToken});
     * - the caller is the owner or an operator of the owner ({ERC721InvalidApprover}).
     *
     * Emits an {Approval} event.
     */
    function approve(address to, uint256 tokenId) external {
        if (_soulbound) revert MembershipSoulbound(tokenId);
        address owner = _requireOwned(tokenId);
        if (msg.sender != owner && !_operatorApprovals[owner][msg.sender]) revert ERC721InvalidApprover(msg.sender);
        _tokenApprovals[tokenId] = to;
        emit Approval(owner, to, tokenId);
    }

    /**
     * @notice Lets (or stops) `operator` transfer any card of the caller.
     *
     * Requirements:
     * - the card is not soulbound ({MembershipSoulbound});
     * - `operator` is not the zero address ({ERC721InvalidOperator}).
     *
     * Emits an {ApprovalForAll} event.
     */
    function setApprovalForAll(address operator, bool approved) external {
        if (_soulbound) revert MembershipSoulbound(0);
        if (operator == address(0)) revert ERC721InvalidOperator(address(0));
        _operatorApprovals[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IMembershipCard
    function activeTierOf(address account) public view returns (bool active, uint8 tier) {
        (, uint256 record) = _cardOf(account);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) return (false, 0);
        tier = uint8(record >> _TIER_SHIFT);
        uint256 validUntil = uint64(record >> _VALID_UNTIL_SHIFT);
        // slither-disable-next-line incorrect-equality,timestamp
        active = validUntil == 0 || validUntil >= block.timestamp;
    }

    /// @inheritdoc IMembershipCard
    function memberCard(address account)
        external
        view
        returns (uint256 tokenId, uint8 tier, bool active, uint64 holdUntil)
    {
        uint256 record;
        (tokenId, record) = _cardOf(account);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) return (0, 0, false, 0);
        tier = uint8(record >> _TIER_SHIFT);
        uint256 validUntil = uint64(record >> _VALID_UNTIL_SHIFT);
        // slither-disable-next-line incorrect-equality,timestamp
        active = validUntil == 0 || validUntil >= block.timestamp;
        holdUntil = uint64(((record >> _HOLD_SHIFT) & _HOLD_MAX_HOURS) * 1 hours);
    }

    /// @notice Whether `account` agreed to receive its next card by transfer ({setAcceptsTransfer}).
    function acceptsTransfer(address account) external view returns (bool) {
        return _records[uint160(account)] & _ACCEPTS_TRANSFER != 0;
    }

    /// @notice How long a card received by transfer stays on hold, in seconds (0 = no hold).
    function holdPeriod() external view returns (uint64) {
        return _holdPeriod;
    }

    /// @inheritdoc IMembershipCard
    function isActiveMember(address account) external view returns (bool active) {
        (active, ) = activeTierOf(account);
    }

    /// @inheritdoc IMembershipCard
    function tierCount() external view returns (uint8) {
        return _tierCount;
    }

    /// @notice The name of `tier`; reverts with {MembershipInvalidTier} if there is no such tier.
    function tierName(uint8 tier) external view returns (string memory) {
        if (tier >= _tierCount) revert MembershipInvalidTier(tier, _tierCount);
        return _tierNames[tier];
    }

    /// @notice The id of the card `account` holds, or 0 if it holds none (no card has id 0).
    function cardOf(address account) external view returns (uint256 tokenId) {
        (tokenId, ) = _cardOf(account);
    }

    /// @notice Owner, tier and expiry of card `tokenId`; reverts with {ERC721NonexistentToken} if there is none.
    function cardInfo(uint256 tokenId) external view returns (address owner, uint8 tier, uint64 validUntil) {
        uint256 record = _records[tokenId];
        owner = _requireOwned(tokenId);
        tier = uint8(record >> _TIER_SHIFT);
        validUntil = uint64(record >> _VALID_UNTIL_SHIFT);
    }

    /// @notice Whether cards are soulbound (fixed at deploy).
    function soulbound() external view returns (bool) {
        return _soulbound;
    }

    /// @notice The base of every token URI.
    function baseURI() external view returns (string memory) {
        return _baseTokenURI;
    }

    /// @notice ERC-5192: whether card `tokenId` is locked (true for every card in soulbound mode); reverts with
    /// {ERC721NonexistentToken} if there is none.
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return _soulbound;
    }

    /// @notice The collection name.
    function name() external view returns (string memory) {
        return _name;
    }

    /// @notice The collection symbol.
    function symbol() external view returns (string memory) {
        return _symbol;
    }

    /// @notice The metadata URI of card `tokenId`: the base URI followed by its tier number.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        _requireOwned(tokenId);
        string memory base = _baseTokenURI;
        if (bytes(base).length == 0) return "";
        return string.concat(base, ((_records[tokenId] >> _TIER_SHIFT) & 0xff).toString());
    }

    /// @notice 1 if `owner` holds a card, else 0; reverts with {ERC721InvalidOwner} for the zero address.
    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ERC721InvalidOwner(address(0));
        (, uint256 record) = _cardOf(owner);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        return record == 0 ? 0 : 1;
    }

    /// @notice The holder of card `tokenId`; reverts with {ERC721NonexistentToken} if there is none.
    function ownerOf(uint256 tokenId) external view returns (address) {
        return _requireOwned(tokenId);
    }

    /// @notice The account approved for card `tokenId`; reverts with {ERC721NonexistentToken} if there is none.
    function getApproved(uint256 tokenId) external view returns (address) {
        _requireOwned(tokenId);
        return _tokenApprovals[tokenId];
    }

    /// @notice Whether `operator` may transfer every card of `owner`.
    function isApprovedForAll(address owner, address operator) external view returns (bool) {
        return _operatorApprovals[owner][operator];
    }

    /// @notice ERC-165: ERC-721, ERC-721 Metadata, ERC-4906, AccessControl and ERC-165 itself, and ERC-5192
    /// in soulbound mode only (a transferable program is not a soulbound collection).
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, IERC165) returns (bool) {
        return
            interfaceId == type(IERC721).interfaceId ||
            interfaceId == type(IERC721Metadata).interfaceId ||
            interfaceId == _INTERFACE_ID_ERC4906 ||
            (interfaceId == _INTERFACE_ID_ERC5192 && _soulbound) ||
            super.supportsInterface(interfaceId);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Enrols `member`; if it already holds a card, reverts, or with `skipHolders` emits
    /// {EnrolmentSkipped} and returns 0 (no card has id 0).
    function _enroll(
        address member,
        uint256 tier,
        uint256 validUntil,
        bool skipHolders
    ) private returns (uint256 tokenId) {
        if (member == address(0)) revert ERC721InvalidReceiver(address(0));
        if (tier >= _tierCount) revert MembershipInvalidTier(tier, _tierCount);
        // slither-disable-next-line timestamp
        if (validUntil != 0 && validUntil < block.timestamp) revert MembershipExpiryInPast(validUntil, block.timestamp);
        uint256 record = uint256(uint160(member)) | (tier << _TIER_SHIFT) | (validUntil << _VALID_UNTIL_SHIFT);
        tokenId = uint160(member);
        uint256 home = _records[tokenId];
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (home & ~_ACCEPTS_TRANSFER == 0) {
            // No card at `member`'s own id and no flag but (maybe) its consent, which is kept.
            _records[tokenId] = record | home;
        } else {
            uint256 held = _heldBy(member, home);
            if (held != 0) {
                if (!skipHolders) revert MembershipAlreadyMember(member, held);
                emit EnrolmentSkipped(member, held);
                return 0;
            }
            tokenId = _enrollAwayFromHome(member, home, record);
        }
        emit Transfer(address(0), member, tokenId);
        emit MemberEnrolled(tokenId, member, uint8(tier), uint64(validUntil));
        if (_soulbound) emit Locked(tokenId);
    }

    /// @dev The card `member` holds (0 if none), given the word at its own id.
    function _heldBy(address member, uint256 home) private view returns (uint256) {
        if (home & _HOLDS_ELSEWHERE != 0) return _heldElsewhere[member];
        return address(uint160(home)) == member ? uint160(member) : 0;
    }

    /// @dev Enrolment of a wallet that holds no card while its own id is held by another wallet: a serial id.
    function _enrollAwayFromHome(address member, uint256 home, uint256 record) private returns (uint256 tokenId) {
        tokenId = (uint256(++_serial) << 160) | uint160(member);
        _records[tokenId] = record;
        _heldElsewhere[member] = tokenId;
        _records[uint160(member)] = home | _HOLDS_ELSEWHERE;
    }

    function _setTier(address member, uint256 tier) private {
        if (tier >= _tierCount) revert MembershipInvalidTier(tier, _tierCount);
        (uint256 tokenId, uint256 record) = _cardOf(member);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) revert MembershipNotMember(member);
        _records[tokenId] = (record & ~_TIER_FIELD) | (tier << _TIER_SHIFT);
        emit TierChanged(tokenId, member, uint8(record >> _TIER_SHIFT), uint8(tier));
        emit MetadataUpdate(tokenId);
    }

    /// @dev {syncTiers} for one member: see there for when the card moves.
    function _syncTier(address member, uint256 from, uint256 to) private {
        if (to >= _tierCount) revert MembershipInvalidTier(to, _tierCount);
        (uint256 tokenId, uint256 record) = _cardOf(member);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) return;
        uint256 current = (record >> _TIER_SHIFT) & 0xff;
        if (to > from ? current >= to : current != from) return;
        _records[tokenId] = (record & ~_TIER_FIELD) | (to << _TIER_SHIFT);
        emit TierChanged(tokenId, member, uint8(current), uint8(to));
        emit MetadataUpdate(tokenId);
    }

    function _setValidUntil(address member, uint256 validUntil) private {
        (uint256 tokenId, uint256 record) = _cardOf(member);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) revert MembershipNotMember(member);
        _records[tokenId] = (record & ~_VALID_UNTIL_FIELD) | (validUntil << _VALID_UNTIL_SHIFT);
        emit ValidUntilChanged(tokenId, member, uint64(record >> _VALID_UNTIL_SHIFT), uint64(validUntil));
    }

    /// @dev Burns `member`'s card and returns its id; keeps the flag bit about the id's own address.
    function _burn(address member) private returns (uint256 tokenId) {
        uint256 record;
        (tokenId, record) = _cardOf(member);
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (record == 0) revert MembershipNotMember(member);
        _records[tokenId] = record & _ADDRESS_FLAGS;
        if (_tokenApprovals[tokenId] != address(0)) delete _tokenApprovals[tokenId];
        if (tokenId != uint160(member)) _clearHeldElsewhere(member);
        emit Transfer(member, address(0), tokenId);
    }

    function _transfer(address from, address to, uint256 tokenId) private {
        if (_soulbound) revert MembershipSoulbound(tokenId);
        if (to == address(0)) revert ERC721InvalidReceiver(address(0));
        uint256 record = _records[tokenId];
        address owner = address(uint160(record));
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
        if (owner != from) revert ERC721IncorrectOwner(from, tokenId, owner);
        if (
            msg.sender != owner &&
            _tokenApprovals[tokenId] != msg.sender &&
            !_operatorApprovals[owner][msg.sender]
        ) revert ERC721InsufficientApproval(msg.sender, tokenId);
        uint256 toHome = _records[uint160(to)];
        (uint256 heldByTo, uint256 toRecord) = _cardOf(to);
        if (toRecord != 0) revert MembershipAlreadyMember(to, heldByTo);
        // `to`'s consent is a flag in the word at its own id, read just above by `_cardOf`.
        // slither-disable-next-line incorrect-equality (a stored word, not a balance: its hold bits come from a timestamp)
        if (toHome & _ACCEPTS_TRANSFER == 0) revert MembershipTransferNotAccepted(to);

        if (_tokenApprovals[tokenId] != address(0)) delete _tokenApprovals[tokenId];
        // The hold's end, in whole hours rounded up (see the contract's notes); 0 without a hold period.
        // Cannot overflow: a timestamp plus a uint64 period stays far below 2**256.
        uint256 period = _holdPeriod;
        uint256 holdHours = 0;
        if (period != 0) {
            unchecked {
                holdHours = (block.timestamp + period + 1 hours - 1) / 1 hours;
            }
            if (holdHours > _HOLD_MAX_HOURS) holdHours = _HOLD_MAX_HOURS;
        }
        // When `tokenId` is `to`'s own id, `record` is `to`'s word and its consent is used up here;
        // otherwise it is used up with the held-elsewhere flag below.
        uint256 moved = (record & ~(_OWNER_MASK | _HOLD_FIELD)) | uint160(to) | (holdHours << _HOLD_SHIFT);
        if (tokenId == uint160(to)) moved &= ~_ACCEPTS_TRANSFER;
        _records[tokenId] = moved;
        // The three words written here are distinct: `from` and `to` differ (`to` holds no card), and
        // each branch runs only when `tokenId` is not that address's own id.
        if (tokenId != uint160(from)) _clearHeldElsewhere(from);
        if (tokenId != uint160(to)) {
            _records[uint160(to)] = (toHome | _HOLDS_ELSEWHERE) & ~_ACCEPTS_TRANSFER;
            _heldElsewhere[to] = tokenId;
        }
        emit Transfer(from, to, tokenId);
        emit CardOnHold(tokenId, to, uint64(holdHours * 1 hours));
    }

    function _clearHeldElsewhere(address holder) private {
        _records[uint160(holder)] &= ~_HOLDS_ELSEWHERE;
        delete _heldElsewhere[holder];
    }

    /// @dev The card `account` holds and its packed word, or (0, 0) if none.
    function _cardOf(address account) private view returns (uint256 tokenId, uint256 record) {
        uint256 home = _records[uint160(account)];
        if (home & _HOLDS_ELSEWHERE != 0) {
            tokenId = _heldElsewhere[account];
            return (tokenId, _records[tokenId]);
        }
        if (account != address(0) && address(uint160(home)) == account) return (uint160(account), home);
        return (0, 0);
    }

    function _requireOwned(uint256 tokenId) private view returns (address owner) {
        owner = address(uint160(_records[tokenId]));
        if (owner == address(0)) revert ERC721NonexistentToken(tokenId);
    }
}
