// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";
import {IMembershipCard} from "./interfaces/IMembershipCard.sol";

/**
 * @title PerkCatalog
 * @notice The brand's catalog of perks that members buy with points. A perk manager adds and edits
 * perks (price, minimum tier, stock, per-wallet limit, sale window, active flag). A member with an
 * active membership card redeems a perk: the catalog burns the points through its REDEEMER_ROLE on the
 * points token and emits {PerkRedeemed} with a sequential redemption id that the back office fulfils
 * against. A relayer can submit a member's EIP-712 signed request instead ({redeemWithSignature}). Both
 * name the most points the member agrees to burn (`maxCost`), so a price edit cannot burn more.
 *
 * @dev Note (deliberate choices):
 * - A perk's whole configuration and its sold count share ONE storage slot, so a redemption reads one
 *   slot and writes it back. To fit: prices are uint96, stock and sold counts uint32, the per-wallet
 *   limit uint16 and the sale window uint32 unix seconds (good until the year 2106).
 * - `stock == UNLIMITED_STOCK` (type(uint32).max) means unlimited; the sold count still cannot pass it.
 * - `walletLimit == 0` means no per-wallet limit; `endTime == 0` means the sale never ends.
 * - Per-member limits are counted per CARD ({redeemedByCard}), not per wallet: a card lent to other
 *   wallets carries its count along, so the limit holds per member whatever wallets the card visits. A card
 *   received by transfer is also refused while on hold ({CatalogCardOnHold}; the card's holding period),
 *   so borrowing a card does not lend its tier either. Re-enrolling a wallet keeps its id (and its counts)
 *   unless another wallet holds that id.
 * - Per-card counts are kept only for perks that have a wallet limit, which is what they are for: a
 *   redemption of an unlimited perk writes no per-member slot (a fresh one costs 22,100 gas). Every
 *   redemption's member, perk and quantity are in its {PerkRedeemed} event, the full history.
 * - Prices are never zero, which is also how an unknown perk id is told apart in the hot path.
 * - Titles are stored as bytes32 (UTF-8, right-padded with zeros, at most 32 bytes) and are repeated in
 *   {PerkAdded} and {PerkUpdated}; the full description lives off chain.
 * - The catalog has no pause of its own: redemptions stop when the points token is paused (its
 *   `redeemBurn` reverts), and a single perk is stopped with {setPerkActive}.
 * - A signed request names the perk, the quantity and `maxCost`, the most points it may burn: an edit
 *   between signing and relaying that raises the cost above it makes the request fail ({CatalogCostAboveMax}).
 *   It also names its `relayer`, the only account that may submit it (the zero address: anyone), so a copy
 *   taken from the mempool by another account reverts at the copier's cost and the relayer's transaction
 *   still goes through. A member cancels a signed request not yet relayed with {invalidateNonce}.
 * - Early access ({setEarlyAccess}): a perk whose sale starts at `startTime` may open at `earlyStart` for
 *   holders of an ERC-721 collection (checked live at redemption with `balanceOf`, no snapshot: a holder who
 *   sells the item mid-window loses early access and the buyer gains it) or for members of a minimum tier.
 *   When the collection is a loyalty_chain membership card (kind {EarlyAccessKind.LoyaltyCard}, e.g. last
 *   season's), its `memberCard` is asked instead and a card on hold after a transfer does not count: the
 *   lending rule applies to the key as to the member's own card, which must still be active, of the perk's
 *   minimum tier and not on hold. The early-access slot is read only before `startTime`, so redemptions in
 *   the public window cost what they did.
 * - Signatures: a valid ECDSA signature by the member's key is accepted first (an EOA, or an EIP-7702
 *   delegated account, as `permit` on the points token does); only otherwise is a member with code asked
 *   through ERC-1271, with at most {ERC1271_GAS} gas, so a wallet whose check burns gas costs the relayer a
 *   bounded amount. Relayers should still refuse contract members they do not know (the Python client's
 *   relay policy does).
 */
contract PerkCatalog is AccessControl, EIP712, Nonces {
    /// @notice Role allowed to add and edit perks. Preimage: keccak256("PERK_MANAGER_ROLE").
    bytes32 public constant PERK_MANAGER_ROLE = keccak256("PERK_MANAGER_ROLE");

    /// @notice EIP-712 type hash of a gasless redemption request.
    bytes32 public constant REDEMPTION_TYPEHASH = keccak256(
        "Redemption(address member,address relayer,uint256 perkId,uint256 quantity,uint256 maxCost,uint256 nonce,uint256 deadline)"
    );

    /// @notice The gas an ERC-1271 wallet's `isValidSignature` may use (a multi-owner wallet needs ~30,000).
    uint256 public constant ERC1271_GAS = 100_000;

    /// @notice The `stock` value that means "unlimited".
    uint32 public constant UNLIMITED_STOCK = type(uint32).max;

    /// @dev One storage slot: 96 + 32 + 32 + 32 + 32 + 16 + 8 + 8 = 256 bits.
    struct Perk {
        uint96 price; // points burned per unit; never 0 for an existing perk
        uint32 stock; // units that can ever be sold; UNLIMITED_STOCK = unlimited
        uint32 sold; // units redeemed so far; always <= stock
        uint32 startTime; // first second of the sale window (0 = open from creation)
        uint32 endTime; // last second of the sale window (0 = never ends)
        uint16 walletLimit; // max units per wallet (0 = no limit)
        uint8 minTier; // lowest card tier allowed (0 = any active member)
        bool active; // manager's on/off switch
    }

    /// @notice How an early-access collection is asked whether `member` holds it.
    enum EarlyAccessKind {
        None, // no collection: the tier route only
        ERC721, // any ERC-721: `balanceOf(member) > 0`
        LoyaltyCard // a loyalty_chain MembershipCard: `memberCard(member)` holds a card not on hold
    }

    /// @dev One slot: 32 + 160 + 8 + 8 + 8 = 216 bits. Read only while a perk's public sale has not started.
    struct EarlyAccess {
        uint32 earlyStart; // first second holders may redeem (0 = no early access)
        address collection; // the collection whose holders get in early (zero = none)
        EarlyAccessKind kind; // how the collection is asked
        bool byTier; // members of `minTier` or above get in early
        uint8 minTier; // the tier route's lowest tier
    }

    // ---------------------------------------------------------------- events

    /// @notice One member's signed redemption request, as {redeemWithSignature} takes it, in a
    /// {redeemBatchWithSignature} call.
    struct SignedRedemption {
        address member;
        address relayer;
        uint256 perkId;
        uint256 quantity;
        uint256 maxCost;
        uint256 deadline;
        bytes signature;
    }

    /**
     * @notice Perk `perkId` opens at `earlyStart` for holders of `collection` (asked as `kind`) and, if
     * `byTier`, for members of `minTier` or above; everyone else waits for its `startTime`. `earlyStart` 0:
     * early access removed.
     */
    event EarlyAccessSet(
        uint256 indexed perkId,
        uint32 earlyStart,
        address indexed collection,
        EarlyAccessKind kind,
        bool byTier,
        uint8 minTier
    );

    /// @notice Emitted when perk `perkId` is added, with its whole configuration.
    event PerkAdded(
        uint256 indexed perkId,
        bytes32 title,
        uint96 price,
        uint8 minTier,
        uint32 stock,
        uint16 walletLimit,
        uint32 startTime,
        uint32 endTime,
        bool active
    );

    /// @notice Emitted when perk `perkId` is edited (including by {setPerkActive}), with its whole new configuration.
    event PerkUpdated(
        uint256 indexed perkId,
        bytes32 title,
        uint96 price,
        uint8 minTier,
        uint32 stock,
        uint16 walletLimit,
        uint32 startTime,
        uint32 endTime,
        bool active
    );

    /// @notice `member` gave up nonce `nonce`: a request signed with it can no longer be relayed.
    event NonceInvalidated(address indexed member, uint256 nonce);

    /**
     * @notice Item `index` of a {redeemBatchWithSignature} call was not redeemed: nothing of it happened
     * (its nonce is still `member`'s next one), and the other items stand.
     * @param index The item's position in the batch.
     * @param member The member the item claims to come from.
     * @param reason The revert data of the item alone ({redeemWithSignature}'s errors, e.g.
     * {CatalogInvalidSignature}); empty if it ran out of gas.
     */
    event RedemptionSkipped(uint256 indexed index, address indexed member, bytes reason);

    /// @notice Emitted when `member` redeems `quantity` units of `perkId`, burning `pointsBurned` points.
    event PerkRedeemed(
        uint256 indexed redemptionId,
        uint256 indexed perkId,
        address indexed member,
        uint256 quantity,
        uint256 pointsBurned
    );

    // ---------------------------------------------------------------- errors

    /**
     * @notice An early-access setting that cannot work: `earlyStart` not before the perk's `startTime`, or no
     * route in (neither a collection nor a tier), or a collection and its kind that do not go together.
     * @param perkId The perk.
     * @param earlyStart The early start given.
     * @param startTime The perk's public start.
     */
    error CatalogInvalidEarlyAccess(uint256 perkId, uint256 earlyStart, uint256 startTime);

    /**
     * @notice `member` is in perk `perkId`'s early window but neither holds its collection nor has its tier.
     * @param perkId The perk.
     * @param member The member refused.
     * @param startTime When the sale opens to everyone.
     */
    error CatalogNotEarlyEligible(uint256 perkId, address member, uint256 startTime);

    /**
     * @notice No perk has id `perkId`.
     * @param perkId The id asked for (ids run from 1 to {perkCount}).
     */
    error CatalogUnknownPerk(uint256 perkId);

    /**
     * @notice A perk cannot cost zero points.
     * @param price The price given.
     */
    error CatalogInvalidPrice(uint256 price);

    /**
     * @notice `minTier` is not one of the card's tiers.
     * @param minTier The tier given.
     * @param tierCount The number of tiers of the membership card.
     */
    error CatalogInvalidTier(uint8 minTier, uint8 tierCount);

    /**
     * @notice The sale window ends before it starts.
     * @param startTime The start given.
     * @param endTime The end given (0 would mean "never ends").
     */
    error CatalogInvalidWindow(uint32 startTime, uint32 endTime);

    /**
     * @notice An edit would set the stock below what has already been sold.
     * @param perkId The perk edited.
     * @param stock The stock given.
     * @param sold Units already sold.
     */
    error CatalogStockBelowSold(uint256 perkId, uint32 stock, uint32 sold);

    /**
     * @notice A redemption asked for zero units.
     * @param perkId The perk asked for.
     */
    error CatalogZeroQuantity(uint256 perkId);

    /**
     * @notice The perk is switched off.
     * @param perkId The perk asked for.
     */
    error CatalogPerkInactive(uint256 perkId);

    /**
     * @notice The perk's sale has not started yet.
     * @param perkId The perk asked for.
     * @param startTime When the sale starts.
     * @param blockTime The current block's timestamp.
     */
    error CatalogPerkNotStarted(uint256 perkId, uint256 startTime, uint256 blockTime);

    /**
     * @notice The perk's sale is over.
     * @param perkId The perk asked for.
     * @param endTime The last second of the sale.
     * @param blockTime The current block's timestamp.
     */
    error CatalogPerkEnded(uint256 perkId, uint256 endTime, uint256 blockTime);

    /**
     * @notice `member` holds no card, or an expired one.
     * @param member The redeeming member.
     */
    error CatalogNoActiveCard(address member);

    /**
     * @notice `member`'s card tier is below the perk's minimum.
     * @param member The redeeming member.
     * @param tier The member's tier.
     * @param minTier The perk's minimum tier.
     */
    error CatalogTierTooLow(address member, uint8 tier, uint8 minTier);

    /**
     * @notice Not enough units left.
     * @param perkId The perk asked for.
     * @param requested Units asked for.
     * @param available Units left.
     */
    error CatalogOutOfStock(uint256 perkId, uint256 requested, uint256 available);

    /**
     * @notice The redemption would take `member` over the perk's per-wallet limit.
     * @param perkId The perk asked for.
     * @param member The redeeming member.
     * @param requested Units asked for.
     * @param alreadyRedeemed Units `member` has already redeemed.
     * @param walletLimit The perk's per-wallet limit.
     */
    error CatalogWalletLimitExceeded(
        uint256 perkId, address member, uint256 requested, uint256 alreadyRedeemed, uint256 walletLimit
    );

    /**
     * @notice The redemption would burn more points than the member agreed to (the price changed).
     * @param perkId The perk asked for.
     * @param cost The points the redemption costs now.
     * @param maxCost The most the member agreed to burn.
     */
    error CatalogCostAboveMax(uint256 perkId, uint256 cost, uint256 maxCost);

    /**
     * @notice The member's card arrived by transfer and is still on hold.
     * @param member The redeeming member.
     * @param tokenId The card.
     * @param holdUntil When the hold ends (unix seconds).
     */
    error CatalogCardOnHold(address member, uint256 tokenId, uint256 holdUntil);

    /**
     * @notice The signed request names another relayer than the caller.
     * @param relayer The relayer the request names.
     * @param caller The account that submitted it.
     */
    error CatalogWrongRelayer(address relayer, address caller);

    /**
     * @notice A signed request's deadline has passed.
     * @param deadline The request's deadline.
     * @param blockTime The current block's timestamp.
     */
    error CatalogExpiredSignature(uint256 deadline, uint256 blockTime);

    /**
     * @notice The signature is not `member`'s over this request with nonce `nonce` on this chain and
     * catalog (a replayed, altered, foreign-chain or foreign-contract request lands here too).
     * @param member The member the request claims to come from.
     * @param nonce The nonce the request had to carry.
     */
    error CatalogInvalidSignature(address member, uint256 nonce);

    /**
     * @notice A {redeemBatchWithSignature} call with no items.
     */
    error CatalogEmptyBatch();

    /**
     * @notice {redeemSignedItem} is the catalog's own step of a batch: `caller` may not call it.
     * @param caller The account that called it.
     */
    error CatalogOnlySelf(address caller);

    // ---------------------------------------------------------------- storage

    ILoyaltyPoints private immutable _points;
    IMembershipCard private immutable _card;

    mapping(uint256 perkId => Perk) private _perks;
    mapping(uint256 perkId => bytes32) private _titles;
    mapping(uint256 perkId => mapping(uint256 cardId => uint256)) private _redeemedBy;
    uint256 private _perkCount;
    uint256 private _redemptionCount;
    mapping(uint256 perkId => EarlyAccess) private _early;

    // ---------------------------------------------------------------- constructor

    /**
     * @param points_ The points token; the catalog must be granted its REDEEMER_ROLE.
     * @param card_ The membership card.
     * @param admin Receives DEFAULT_ADMIN_ROLE and PERK_MANAGER_ROLE.
     */
    constructor(ILoyaltyPoints points_, IMembershipCard card_, address admin) EIP712("LoyaltyPerkCatalog", "1") {
        _points = points_;
        _card = card_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PERK_MANAGER_ROLE, admin);
    }

    // ---------------------------------------------------------------- perk management

    /**
     * @notice Adds a perk; ids run 1, 2, 3, ...
     *
     * Requirements:
     * - the caller has PERK_MANAGER_ROLE;
     * - `price` is not zero;
     * - `minTier` is below the card's `tierCount()`;
     * - `endTime` is 0 or after `startTime`.
     *
     * Emits a {PerkAdded} event.
     * @param title Short title, UTF-8 right-padded with zeros.
     * @param price Points burned per unit (in the token's smallest unit).
     * @param minTier Lowest card tier allowed to redeem (0 = any active member).
     * @param stock Units that can ever be sold; UNLIMITED_STOCK for unlimited.
     * @param walletLimit Most units one wallet may redeem over time; 0 for no limit.
     * @param startTime First second (unix) of the sale; 0 for "from now".
     * @param endTime Last second (unix) of the sale; 0 for "never ends".
     * @param active Whether the perk can be redeemed at all.
     * @return perkId The new perk's id.
     */
    function addPerk(
        bytes32 title,
        uint96 price,
        uint8 minTier,
        uint32 stock,
        uint16 walletLimit,
        uint32 startTime,
        uint32 endTime,
        bool active
    ) external onlyRole(PERK_MANAGER_ROLE) returns (uint256 perkId) {
        Perk memory config = Perk({
            price: price,
            stock: stock,
            sold: 0,
            startTime: startTime,
            endTime: endTime,
            walletLimit: walletLimit,
            minTier: minTier,
            active: active
        });
        _validate(config);
        unchecked {
            // one id per transaction: the counter cannot reach 2^256
            perkId = ++_perkCount;
        }
        _perks[perkId] = config;
        _titles[perkId] = title;
        emit PerkAdded(perkId, title, price, minTier, stock, walletLimit, startTime, endTime, active);
    }

    /**
     * @notice Replaces the configuration of perk `perkId`; its sold count and per-wallet counts are kept.
     * @dev Per-wallet counts cover only redemptions made while the perk had a wallet limit: giving a
     * limit to a perk that had none starts every wallet from what {redeemedBy} holds (0 if it never had a
     * limit). To count earlier redemptions too, derive them from the {PerkRedeemed} events instead.
     *
     * Requirements:
     * - the caller has PERK_MANAGER_ROLE;
     * - perk `perkId` exists;
     * - `stock` is not below the units already sold;
     * - the same rules as {addPerk} for `price`, `minTier` and the window.
     *
     * Emits a {PerkUpdated} event.
     */
    function updatePerk(
        uint256 perkId,
        bytes32 title,
        uint96 price,
        uint8 minTier,
        uint32 stock,
        uint16 walletLimit,
        uint32 startTime,
        uint32 endTime,
        bool active
    ) external onlyRole(PERK_MANAGER_ROLE) {
        uint32 sold = _existingPerk(perkId).sold;
        if (stock < sold) revert CatalogStockBelowSold(perkId, stock, sold);
        Perk memory config = Perk({
            price: price,
            stock: stock,
            sold: sold,
            startTime: startTime,
            endTime: endTime,
            walletLimit: walletLimit,
            minTier: minTier,
            active: active
        });
        _validate(config);
        _perks[perkId] = config;
        _titles[perkId] = title;
        emit PerkUpdated(perkId, title, price, minTier, stock, walletLimit, startTime, endTime, active);
    }

    /**
     * @notice Switches perk `perkId` on or off without touching the rest of its configuration.
     *
     * Requirements:
     * - the caller has PERK_MANAGER_ROLE;
     * - perk `perkId` exists.
     *
     * Emits a {PerkUpdated} event with the whole configuration.
     */
    function setPerkActive(uint256 perkId, bool active) external onlyRole(PERK_MANAGER_ROLE) {
        Perk storage stored = _existingPerk(perkId);
        stored.active = active;
        Perk memory config = stored;
        emit PerkUpdated(
            perkId,
            _titles[perkId],
            config.price,
            config.minTier,
            config.stock,
            config.walletLimit,
            config.startTime,
            config.endTime,
            active
        );
    }

    /**
     * @notice Opens perk `perkId` early, from `earlyStart`, to holders of `collection` and/or to members of
     * `minTier` or above (`byTier`); everyone else from the perk's `startTime`. Holding is checked live at
     * each redemption (no snapshot). `earlyStart` 0 removes early access (the other values must then be
     * empty too).
     *
     * Requirements:
     * - the caller has PERK_MANAGER_ROLE;
     * - perk `perkId` exists ({CatalogUnknownPerk});
     * - unless removing: `earlyStart` is before the perk's `startTime`, there is a route in (a collection, or
     *   `byTier`), and `collection` is zero exactly when `kind` is `None` ({CatalogInvalidEarlyAccess});
     * - `minTier` is one of the card's tiers ({CatalogInvalidTier}).
     *
     * Emits an {EarlyAccessSet} event.
     * @param kind How `collection` is asked: `ERC721` (`balanceOf`) or `LoyaltyCard` (`memberCard`, on-hold
     * cards do not count).
     */
    function setEarlyAccess(
        uint256 perkId,
        uint32 earlyStart,
        address collection,
        EarlyAccessKind kind,
        bool byTier,
        uint8 minTier
    ) external onlyRole(PERK_MANAGER_ROLE) {
        uint32 startTime = _existingPerk(perkId).startTime;
        bool removing = earlyStart == 0;
        bool noCollection = collection == address(0);
        if (
            removing
                ? (!noCollection || kind != EarlyAccessKind.None || byTier || minTier != 0)
                : (earlyStart >= startTime || (noCollection && !byTier) || noCollection != (kind == EarlyAccessKind.None))
        ) revert CatalogInvalidEarlyAccess(perkId, earlyStart, startTime);
        uint8 tierCount = _card.tierCount();
        if (minTier >= tierCount) revert CatalogInvalidTier(minTier, tierCount);
        _early[perkId] = EarlyAccess(earlyStart, collection, kind, byTier, minTier);
        emit EarlyAccessSet(perkId, earlyStart, collection, kind, byTier, minTier);
    }

    // ---------------------------------------------------------------- redemption

    /**
     * @notice Redeems `quantity` units of perk `perkId` for the caller, burning `price * quantity` of the
     * caller's points, at most `maxCost`.
     *
     * Requirements:
     * - `quantity` is not zero; perk `perkId` exists, is active and inside its sale window, or inside its
     *   early window and the caller is eligible ({setEarlyAccess}, {CatalogNotEarlyEligible});
     * - the caller holds an active card of at least the perk's minimum tier, not on hold ({CatalogCardOnHold});
     * - enough stock is left and the card stays within the perk's per-member limit;
     * - `price * quantity <= maxCost` ({CatalogCostAboveMax});
     * - the caller holds enough points and the points token is not paused (the token's own errors).
     *
     * Emits a {PerkRedeemed} event (and the token's {IERC20-Transfer} to the zero address).
     * @param maxCost The most points the caller agrees to burn (what the wallet shows it read).
     * @return redemptionId The sequential id the back office fulfils against.
     */
    function redeem(uint256 perkId, uint256 quantity, uint256 maxCost) external returns (uint256 redemptionId) {
        return _redeem(_msgSender(), perkId, quantity, maxCost);
    }

    /**
     * @notice Redeems for `member` a request `member` signed off chain (EIP-712, domain
     * "LoyaltyPerkCatalog" version "1", this chain and this contract), submitted by `relayer` (or by anyone
     * if it is the zero address). The request carries `member`'s current {nonces} value, which this call
     * uses up.
     *
     * Requirements:
     * - `relayer` is the caller or the zero address ({CatalogWrongRelayer});
     * - `block.timestamp <= deadline` ({CatalogExpiredSignature});
     * - `signature` is `member`'s over Redemption(member, relayer, perkId, quantity, maxCost, nonces(member),
     *   deadline): an ECDSA signature by the member's key, or else an ERC-1271 approval by the member's
     *   contract given at most {ERC1271_GAS} gas ({CatalogInvalidSignature});
     * - the same as {redeem} for `member`.
     *
     * Emits a {PerkRedeemed} event.
     * @return redemptionId The sequential id the back office fulfils against.
     */
    function redeemWithSignature(
        address member,
        address relayer,
        uint256 perkId,
        uint256 quantity,
        uint256 maxCost,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 redemptionId) {
        return _redeemSigned(msg.sender, member, relayer, perkId, quantity, maxCost, deadline, signature);
    }

    /**
     * @notice Redeems many members' signed requests in one transaction, each exactly as
     * {redeemWithSignature} would (relayer, deadline, nonce, ECDSA or ERC-1271 signature, then every rule of
     * {redeem}), with the caller as the submitting relayer.
     *
     * A bad item does not block the others: it is skipped, undone alone (its nonce is not used up, no points
     * burn) and reported by a {RedemptionSkipped} event carrying its own error, and the batch goes on. Each
     * item runs in a call of the catalog to itself ({redeemSignedItem}), which is what lets one item's revert
     * roll back that item only.
     *
     * Requirements:
     * - at least one item ({CatalogEmptyBatch}).
     *
     * Emits a {PerkRedeemed} event per redeemed item and a {RedemptionSkipped} event per skipped one.
     * @param requests The signed requests, in the order they are tried (two of one member: nonce order).
     * @return redemptionIds Each item's redemption id, 0 where it was skipped.
     */
    function redeemBatchWithSignature(
        SignedRedemption[] calldata requests
    ) external returns (uint256[] memory redemptionIds) {
        uint256 count = requests.length;
        if (count == 0) revert CatalogEmptyBatch();
        redemptionIds = new uint256[](count);
        for (uint256 i; i < count; ) {
            // slither-disable-next-line calls-loop (a call to this contract: each item is undone alone)
            try this.redeemSignedItem(msg.sender, requests[i]) returns (uint256 id) {
                redemptionIds[i] = id;
            } catch (bytes memory reason) {
                emit RedemptionSkipped(i, requests[i].member, reason);
            }
            // `i < count` bounds the increment
            unchecked {
                ++i;
            }
        }
    }

    /**
     * @notice One item of {redeemBatchWithSignature}, submitted by `submitter`: callable by this catalog
     * only ({CatalogOnlySelf}).
     * @param submitter The account that called {redeemBatchWithSignature} (the relayer checked).
     * @param request The signed request.
     * @return redemptionId The sequential id the back office fulfils against.
     */
    function redeemSignedItem(
        address submitter,
        SignedRedemption calldata request
    ) external returns (uint256 redemptionId) {
        if (msg.sender != address(this)) revert CatalogOnlySelf(msg.sender);
        return
            _redeemSigned(
                submitter,
                request.member,
                request.relayer,
                request.perkId,
                request.quantity,
                request.maxCost,
                request.deadline,
                request.signature
            );
    }

    /**
     * @notice Gives up the caller's current nonce, so a signed request not relayed yet can never be.
     *
     * Emits a {NonceInvalidated} event.
     */
    function invalidateNonce() external {
        emit NonceInvalidated(msg.sender, _useNonce(msg.sender));
    }

    // ---------------------------------------------------------------- views

    /**
     * @notice The configuration of perk `perkId` and the units sold so far.
     *
     * Requirements:
     * - perk `perkId` exists.
     */
    function perk(uint256 perkId)
        external
        view
        returns (
            bytes32 title,
            uint96 price,
            uint8 minTier,
            uint32 stock,
            uint16 walletLimit,
            uint32 startTime,
            uint32 endTime,
            bool active,
            uint32 sold
        )
    {
        Perk memory p = _existingPerk(perkId);
        return (_titles[perkId], p.price, p.minTier, p.stock, p.walletLimit, p.startTime, p.endTime, p.active, p.sold);
    }

    /**
     * @notice Perk `perkId`'s early access: from `earlyStart` (0: none) for holders of `collection` (asked
     * as `kind`) and, if `byTier`, for members of `minTier` or above.
     */
    function earlyAccess(uint256 perkId)
        external
        view
        returns (uint32 earlyStart, address collection, EarlyAccessKind kind, bool byTier, uint8 minTier)
    {
        EarlyAccess memory a = _early[perkId];
        return (a.earlyStart, a.collection, a.kind, a.byTier, a.minTier);
    }

    /// @notice The number of perks ever added (the highest perk id).
    function perkCount() external view returns (uint256) {
        return _perkCount;
    }

    /**
     * @notice Units of perk `perkId` redeemed with the card `member` holds now, while the perk had a wallet
     * limit (what the limit is checked against; 0 if `member` holds no card). See {redeemedByCard}.
     */
    function redeemedBy(uint256 perkId, address member) external view returns (uint256) {
        // slither-disable-next-line unused-return (only the card id is needed here)
        (uint256 cardId, , , ) = _card.memberCard(member);
        return cardId == 0 ? 0 : _redeemedBy[perkId][cardId];
    }

    /**
     * @notice Units of perk `perkId` redeemed with card `cardId`, by whichever wallet held it, while the perk
     * had a wallet limit. Redemptions of a perk without a limit are not counted here; the {PerkRedeemed}
     * events hold every redemption.
     */
    function redeemedByCard(uint256 perkId, uint256 cardId) external view returns (uint256) {
        return _redeemedBy[perkId][cardId];
    }

    /// @notice The number of redemptions so far (the highest redemption id).
    function redemptionCount() external view returns (uint256) {
        return _redemptionCount;
    }

    /// @notice The points token whose points are burned.
    function points() external view returns (ILoyaltyPoints) {
        return _points;
    }

    /// @notice The membership card checked on redemption.
    function card() external view returns (IMembershipCard) {
        return _card;
    }

    /// @notice The EIP-712 domain separator of gasless redemption requests (this chain, this contract).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    /// @dev {redeemWithSignature}'s checks for a request `submitter` submitted, then {_redeem}.
    function _redeemSigned(
        address submitter,
        address member,
        address relayer,
        uint256 perkId,
        uint256 quantity,
        uint256 maxCost,
        uint256 deadline,
        bytes calldata signature
    ) private returns (uint256 redemptionId) {
        if (relayer != address(0) && relayer != submitter) revert CatalogWrongRelayer(relayer, submitter);
        // slither-disable-next-line timestamp (deadlines are in seconds; miners' leeway is irrelevant)
        if (block.timestamp > deadline) revert CatalogExpiredSignature(deadline, block.timestamp);
        uint256 nonce = _useNonce(member);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(REDEMPTION_TYPEHASH, member, relayer, perkId, quantity, maxCost, nonce, deadline))
        );
        if (!_isMemberSignature(member, digest, signature)) revert CatalogInvalidSignature(member, nonce);
        return _redeem(member, perkId, quantity, maxCost);
    }

    /// @dev Checks, updates the counts (effects), emits, then burns (interaction), in that order.
    function _redeem(
        address member,
        uint256 perkId,
        uint256 quantity,
        uint256 maxCost
    ) private returns (uint256 redemptionId) {
        if (quantity == 0) revert CatalogZeroQuantity(perkId);
        Perk storage stored = _perks[perkId];
        Perk memory p = stored;
        if (p.price == 0) revert CatalogUnknownPerk(perkId);
        if (!p.active) revert CatalogPerkInactive(perkId);
        // slither-disable-next-line timestamp (sale windows are in seconds; miners' leeway is irrelevant)
        // Only before the public start is the early-access slot read: later redemptions cost what they did.
        if (block.timestamp < p.startTime) _requireEarlyWindow(perkId, p.startTime);
        // slither-disable-next-line timestamp
        if (p.endTime != 0 && block.timestamp > p.endTime) {
            revert CatalogPerkEnded(perkId, p.endTime, block.timestamp);
        }

        (uint256 cardId, uint8 tier, bool hasActiveCard, uint64 holdUntil) = _card.memberCard(member);
        if (!hasActiveCard) revert CatalogNoActiveCard(member);
        if (tier < p.minTier) revert CatalogTierTooLow(member, tier, p.minTier);
        // slither-disable-next-line timestamp
        if (holdUntil > block.timestamp) revert CatalogCardOnHold(member, cardId, holdUntil);
        // slither-disable-next-line timestamp
        if (block.timestamp < p.startTime && !_earlyEligible(perkId, member, tier)) {
            revert CatalogNotEarlyEligible(perkId, member, p.startTime);
        }

        uint256 available;
        unchecked {
            // sold <= stock is kept by every write of either field
            available = p.stock - p.sold;
        }
        if (quantity > available) revert CatalogOutOfStock(perkId, quantity, available);

        uint256 cost;
        unchecked {
            // price < 2^96 and quantity <= available < 2^32, so the product is < 2^128
            cost = uint256(p.price) * quantity;
        }
        if (cost > maxCost) revert CatalogCostAboveMax(perkId, cost, maxCost);

        if (p.walletLimit != 0) {
            // Only limited perks keep per-card counts (see the contract's notes).
            uint256 alreadyRedeemed = _redeemedBy[perkId][cardId];
            // Cannot overflow: both terms are below 2^32 (a member's units are part of the sold count and
            // quantity <= available < 2^32).
            unchecked {
                if (alreadyRedeemed + quantity > p.walletLimit) {
                    revert CatalogWalletLimitExceeded(perkId, member, quantity, alreadyRedeemed, p.walletLimit);
                }
                _redeemedBy[perkId][cardId] = alreadyRedeemed + quantity;
            }
        }

        unchecked {
            // quantity <= available <= stock, so sold + quantity <= stock < 2^32
            stored.sold = p.sold + uint32(quantity);
            // one id per redemption: the counter cannot reach 2^256
            redemptionId = ++_redemptionCount;
        }
        emit PerkRedeemed(redemptionId, perkId, member, quantity, cost);
        _points.redeemBurn(member, cost);
    }

    /**
     * @dev Whether `signature` is `member`'s over `digest`: an ECDSA signature of the member's key first
     * (EOAs and EIP-7702 delegated accounts; no code lookup needed), else, for a member with code, ERC-1271
     * `isValidSignature` in a staticcall given at most {ERC1271_GAS} gas whose return data is read only up to
     * one word (a wallet can neither burn the relayer's gas nor make it copy a huge return).
     */
    function _isMemberSignature(address member, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (signature.length == 65) {
            // slither-disable-next-line unused-return (the error's argument adds nothing to the error)
            (address recovered, ECDSA.RecoverError error, ) = ECDSA.tryRecover(
                digest,
                uint8(signature[64]),
                bytes32(signature[0:32]),
                bytes32(signature[32:64])
            );
            if (error == ECDSA.RecoverError.NoError && recovered == member) return true;
        }
        if (member.code.length == 0) return false;
        bytes memory payload = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bool success;
        uint256 returnSize;
        bytes32 answer;
        // Not Solidity's staticcall: it would copy all the return data into memory, whatever its size.
        assembly ("memory-safe") {
            mstore(0, 0)
            success := staticcall(ERC1271_GAS, member, add(payload, 0x20), mload(payload), 0, 0x20)
            returnSize := returndatasize()
            answer := mload(0)
        }
        return success && returnSize >= 0x20 && answer == bytes32(IERC1271.isValidSignature.selector);
    }

    /**
     * @dev Whether `member` (whose own card has `tier`) may redeem in the early window: by tier, or holding
     * the collection now. A loyalty card collection is asked through `memberCard`: a card on hold after a
     * transfer does not open the window (the lending rule); its expiry does not matter (last season's card).
     */
    function _earlyEligible(uint256 perkId, address member, uint8 tier) private view returns (bool) {
        EarlyAccess memory access = _early[perkId]; // warm: read by _requireEarlyWindow in this call
        if (access.byTier && tier >= access.minTier) return true;
        if (access.kind == EarlyAccessKind.ERC721) return IERC721(access.collection).balanceOf(member) > 0;
        if (access.kind == EarlyAccessKind.LoyaltyCard) {
            // slither-disable-next-line unused-return (the tier and the expiry do not matter here)
            (uint256 tokenId, , , uint64 holdUntil) = IMembershipCard(access.collection).memberCard(member);
            // slither-disable-next-line timestamp
            return tokenId != 0 && holdUntil <= block.timestamp;
        }
        return false;
    }

    /// @dev Reverts {CatalogPerkNotStarted} unless perk `perkId` has early access and its early window is open.
    function _requireEarlyWindow(uint256 perkId, uint32 startTime) private view {
        uint32 earlyStart = _early[perkId].earlyStart;
        // slither-disable-next-line timestamp
        if (earlyStart == 0 || block.timestamp < earlyStart) {
            revert CatalogPerkNotStarted(perkId, startTime, block.timestamp);
        }
    }

    function _existingPerk(uint256 perkId) private view returns (Perk storage stored) {
        stored = _perks[perkId];
        if (stored.price == 0) revert CatalogUnknownPerk(perkId);
    }

    function _validate(Perk memory config) private view {
        if (config.price == 0) revert CatalogInvalidPrice(config.price);
        uint8 tierCount = _card.tierCount();
        if (config.minTier >= tierCount) revert CatalogInvalidTier(config.minTier, tierCount);
        if (config.endTime != 0 && config.endTime <= config.startTime) {
            revert CatalogInvalidWindow(config.startTime, config.endTime);
        }
    }
}
