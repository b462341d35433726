// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";
import {IMembershipCard} from "./interfaces/IMembershipCard.sol";

/**
 * @title PerkCatalog
 * @notice The brand's catalog of perks that members buy with points. A perk manager adds and edits
 * perks (price, minimum tier, stock, per-wallet limit, sale window, active flag). A member with an
 * active membership card redeems a perk: the catalog burns the points through its REDEEMER_ROLE on the
 * points token and emits {PerkRedeemed} with a sequential redemption id that the back office fulfils
 * against. A relayer can submit a member's EIP-712 signed request instead ({redeemWithSignature}).
 *
 * @dev Note (deliberate choices):
 * - A perk's whole configuration and its sold count share ONE storage slot, so a redemption reads one
 *   slot and writes it back. To fit: prices are uint96, stock and sold counts uint32, the per-wallet
 *   limit uint16 and the sale window uint32 unix seconds (good until the year 2106).
 * - `stock == UNLIMITED_STOCK` (type(uint32).max) means unlimited; the sold count still cannot pass it.
 * - `walletLimit == 0` means no per-wallet limit; `endTime == 0` means the sale never ends.
 * - Per-wallet counts ({redeemedBy}) are kept only for perks that have a wallet limit, which is what they
 *   are for: a redemption of an unlimited perk writes no per-member slot (a fresh one costs 22,100 gas).
 *   Every redemption's member, perk and quantity are in its {PerkRedeemed} event, the full history.
 * - Prices are never zero, which is also how an unknown perk id is told apart in the hot path.
 * - Titles are stored as bytes32 (UTF-8, right-padded with zeros, at most 32 bytes) and are repeated in
 *   {PerkAdded} and {PerkUpdated}; the full description lives off chain.
 * - The catalog has no pause of its own: redemptions stop when the points token is paused (its
 *   `redeemBurn` reverts), and a single perk is stopped with {setPerkActive}.
 * - A signed request names the perk and quantity, not the price: an edit between signing and relaying
 *   applies to it. The request's deadline bounds that window; members who care sign short deadlines.
 */
contract PerkCatalog is AccessControl, EIP712, Nonces {
    /// @notice Role allowed to add and edit perks. Preimage: keccak256("PERK_MANAGER_ROLE").
    bytes32 public constant PERK_MANAGER_ROLE = keccak256("PERK_MANAGER_ROLE");

    /// @notice EIP-712 type hash of a gasless redemption request.
    bytes32 public constant REDEMPTION_TYPEHASH =
        keccak256("Redemption(address member,uint256 perkId,uint256 quantity,uint256 nonce,uint256 deadline)");

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

    // ---------------------------------------------------------------- events

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

    // ---------------------------------------------------------------- storage

    ILoyaltyPoints private immutable _points;
    IMembershipCard private immutable _card;

    mapping(uint256 perkId => Perk) private _perks;
    mapping(uint256 perkId => bytes32) private _titles;
    mapping(uint256 perkId => mapping(address member => uint256)) private _redeemedBy;
    uint256 private _perkCount;
    uint256 private _redemptionCount;

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

    // ---------------------------------------------------------------- redemption

    /**
     * @notice Redeems `quantity` units of perk `perkId` for the caller, burning `price * quantity` of the
     * caller's points.
     *
     * Requirements:
     * - `quantity` is not zero; perk `perkId` exists, is active and inside its sale window;
     * - the caller holds an active card of at least the perk's minimum tier;
     * - enough stock is left and the caller stays within the per-wallet limit;
     * - the caller holds enough points and the points token is not paused (the token's own errors).
     *
     * Emits a {PerkRedeemed} event (and the token's {IERC20-Transfer} to the zero address).
     * @return redemptionId The sequential id the back office fulfils against.
     */
    function redeem(uint256 perkId, uint256 quantity) external returns (uint256 redemptionId) {
        return _redeem(_msgSender(), perkId, quantity);
    }

    /**
     * @notice Redeems for `member` a request `member` signed off chain (EIP-712, domain
     * "LoyaltyPerkCatalog" version "1", this chain and this contract); anyone may submit it.
     * The request carries `member`'s current {nonces} value, which this call uses up.
     *
     * Requirements:
     * - `block.timestamp <= deadline`;
     * - `signature` is `member`'s over Redemption(member, perkId, quantity, nonces(member), deadline)
     *   (an EOA signature, or an ERC-1271 contract wallet's approval);
     * - the same as {redeem} for `member`.
     *
     * Emits a {PerkRedeemed} event.
     * @return redemptionId The sequential id the back office fulfils against.
     */
    function redeemWithSignature(
        address member,
        uint256 perkId,
        uint256 quantity,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 redemptionId) {
        // slither-disable-next-line timestamp (deadlines are in seconds; miners' leeway is irrelevant)
        if (block.timestamp > deadline) revert CatalogExpiredSignature(deadline, block.timestamp);
        uint256 nonce = _useNonce(member);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(REDEMPTION_TYPEHASH, member, perkId, quantity, nonce, deadline)));
        if (!SignatureChecker.isValidSignatureNow(member, digest, signature)) {
            revert CatalogInvalidSignature(member, nonce);
        }
        return _redeem(member, perkId, quantity);
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

    /// @notice The number of perks ever added (the highest perk id).
    function perkCount() external view returns (uint256) {
        return _perkCount;
    }

    /**
     * @notice Units of perk `perkId` that `member` has redeemed while the perk had a wallet limit (what the
     * limit is checked against). Redemptions of a perk without a wallet limit are not counted here; the
     * {PerkRedeemed} events hold every redemption.
     */
    function redeemedBy(uint256 perkId, address member) external view returns (uint256) {
        return _redeemedBy[perkId][member];
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

    /// @dev Checks, updates the counts (effects), emits, then burns (interaction), in that order.
    function _redeem(address member, uint256 perkId, uint256 quantity) private returns (uint256 redemptionId) {
        if (quantity == 0) revert CatalogZeroQuantity(perkId);
        Perk storage stored = _perks[perkId];
        Perk memory p = stored;
        if (p.price == 0) revert CatalogUnknownPerk(perkId);
        if (!p.active) revert CatalogPerkInactive(perkId);
        // slither-disable-next-line timestamp (sale windows are in seconds; miners' leeway is irrelevant)
        if (block.timestamp < p.startTime) revert CatalogPerkNotStarted(perkId, p.startTime, block.timestamp);
        // slither-disable-next-line timestamp
        if (p.endTime != 0 && block.timestamp > p.endTime) {
            revert CatalogPerkEnded(perkId, p.endTime, block.timestamp);
        }

        (bool hasActiveCard, uint8 tier) = _card.activeTierOf(member);
        if (!hasActiveCard) revert CatalogNoActiveCard(member);
        if (tier < p.minTier) revert CatalogTierTooLow(member, tier, p.minTier);

        uint256 available;
        unchecked {
            // sold <= stock is kept by every write of either field
            available = p.stock - p.sold;
        }
        if (quantity > available) revert CatalogOutOfStock(perkId, quantity, available);

        if (p.walletLimit != 0) {
            // Only limited perks keep per-wallet counts (see the contract's notes).
            uint256 alreadyRedeemed = _redeemedBy[perkId][member];
            // Cannot overflow: both terms are below 2^32 (a member's units are part of the sold count and
            // quantity <= available < 2^32).
            unchecked {
                if (alreadyRedeemed + quantity > p.walletLimit) {
                    revert CatalogWalletLimitExceeded(perkId, member, quantity, alreadyRedeemed, p.walletLimit);
                }
                _redeemedBy[perkId][member] = alreadyRedeemed + quantity;
            }
        }

        uint256 cost;
        unchecked {
            // quantity <= available <= stock, so sold + quantity <= stock < 2^32
            stored.sold = p.sold + uint32(quantity);
            // one id per redemption: the counter cannot reach 2^256
            redemptionId = ++_redemptionCount;
            // price < 2^96 and quantity < 2^32, so the product is < 2^128
            cost = uint256(p.price) * quantity;
        }
        emit PerkRedeemed(redemptionId, perkId, member, quantity, cost);
        _points.redeemBurn(member, cost);
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
