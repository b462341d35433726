// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";
import {IMembershipCard} from "./interfaces/IMembershipCard.sol";

/**
 * @title AirdropDistributor
 * @notice Merkle airdrop campaigns of points and of membership cards. A campaign manager creates a
 * campaign (kind, claim window, reason) and publishes its Merkle root, in the same call or later. Anyone
 * may then submit a claim with a proof; the points are minted (through this contract's ISSUER_ROLE on the
 * points token, so nothing is pre-funded) or the card is enrolled (ISSUER_ROLE on the card) to the leaf's
 * account, whoever submits. Points never claimed inside the window are simply never minted.
 *
 * Leaves are those of the StandardMerkleTree of the npm package openzeppelin/merkle-tree:
 * `keccak256(bytes.concat(keccak256(abi.encode(values...))))`, with sorted-pair hashing (OZ MerkleProof).
 * - points campaign leaf values: `(uint256 index, address account, uint256 amount)`;
 * - card campaign leaf values: `(uint256 index, address account, uint8 tier)`.
 *
 * @dev Note (deliberate choices):
 * - A claim reads ONE slot of campaign settings: the proof is checked by recomputing the root from the leaf
 *   and the proof, then reading the settings stored under (that root, campaign id). Settings are kept only
 *   under the campaign's current root, so they are found exactly when the proof leads to that root: the
 *   same guarantee as `MerkleProof.verify` against a stored root, one cold storage read cheaper.
 * - Claimed flags are a bitmap keyed by leaf index, 256 flags per slot (as Uniswap's MerkleDistributor).
 * - A campaign's root (and, for cards, the card expiry) can change only until the first claim.
 * - The claim window is inclusive: claims are accepted while `start <= block.timestamp <= end`.
 * - Points are minted with the token reason {AIRDROP_REASON} ("airdrop"); the campaign's own `reason` is
 *   in {CampaignCreated} and {campaign}, and each mint's campaign in the {Claimed} event of the same call.
 *   (Forwarding the campaign reason would cost every claim one more cold storage read.)
 * - Cards are enrolled with the campaign's card expiry (0 = never expires; see {setCardValidUntil}), which
 *   must fall after the claim window: an expiry inside it would lock out every later claimer for good.
 * - A root is published at most once, across all campaigns: the same tree cannot be opened (and claimed)
 *   twice. A campaign can be closed early ({closeCampaign}); its unclaimed points were never minted, so
 *   nothing has to be swept back on chain.
 *   A leaf whose account already holds a card cannot be claimed (the card refuses a second card).
 * - Budgets (a fix of an audit finding: CAMPAIGN_MANAGER_ROLE alone could mint anything to itself): every
 *   campaign has a mint budget, points for a points campaign or cards for a card campaign, fixed at
 *   creation; claims stop at it ({AirdropBudgetExceeded}). A campaign manager's budgets are drawn from the
 *   allowance the admin (DEFAULT_ADMIN_ROLE, who holds the issuer power) sets per kind
 *   ({setCampaignAllowance}); the admin's own campaigns draw nothing. The budget left sits in the settings
 *   slot a claim reads anyway, so enforcing it costs a claim one warm write (2,900 gas).
 * - Times are kept as uint40 (good until the year 36812) to make room for the budget in that slot.
 * - Early access (issue 12, as {PerkCatalog-setEarlyAccess}): a campaign may open at `earlyStart`, before its
 *   `start`, to claims for accounts that hold an ERC-721 collection now (a loyalty_chain card collection is
 *   asked through `memberCard`: a card on hold after a transfer does not count) or whose own card of this
 *   program is active, not on hold and of a minimum tier. Checked live at the claim, no snapshot: a holder
 *   who sells mid-window loses early access, the buyer gains it. Its slot is read only before `start`, so
 *   claims in the public window cost what they did.
 */
contract AirdropDistributor is AccessControl {
    /// @notice Role allowed to create campaigns and set their roots. Preimage: keccak256("CAMPAIGN_MANAGER_ROLE").
    bytes32 public constant CAMPAIGN_MANAGER_ROLE = keccak256("CAMPAIGN_MANAGER_ROLE");

    /// @notice Campaign kind: points minted on claim.
    uint8 public constant KIND_POINTS = 0;
    /// @notice Campaign kind: a membership card enrolled on claim.
    uint8 public constant KIND_CARDS = 1;

    /// @notice The reason code the points token records for airdrop mints: bytes32("airdrop").
    bytes32 public constant AIRDROP_REASON = "airdrop";

    /// @dev A campaign's settings: one slot (40 + 40 + 40 + 8 + 8 + 120 = 256 bits).
    struct Settings {
        uint40 start; // first second of the claim window
        uint40 end; // last second of the claim window; never 0 for an existing campaign
        uint40 cardValidUntil; // expiry given to cards enrolled by a card campaign (0 = never)
        uint8 kind; // KIND_POINTS or KIND_CARDS
        bool claimsStarted; // set by the first claim; freezes the root and the card expiry
        uint120 budgetLeft; // points (points campaign) or cards (card campaign) still claimable
    }

    /// @notice How an early-access collection is asked whether an account holds it.
    enum EarlyAccessKind {
        None, // no collection: the tier route only
        ERC721, // any ERC-721: balanceOf(account) > 0
        LoyaltyCard // a loyalty_chain MembershipCard: a card not on hold (its expiry does not matter)
    }

    /// @dev A campaign's early access: one slot, read only by claims before the campaign's start.
    struct EarlyAccess {
        uint40 earlyStart; // first second early claims are accepted (0 = no early access)
        address collection; // whose holders claim early (zero = none)
        EarlyAccessKind kind; // how the collection is asked
        bool byTier; // accounts whose card of this program is of `minTier` or above claim early
        uint8 minTier; // the tier route's lowest tier
    }

    // ---------------------------------------------------------------- events

    /// @notice Emitted when campaign `campaignId` is created with a mint budget of `budget` points or cards.
    event CampaignCreated(
        uint256 indexed campaignId,
        uint8 indexed kind,
        uint64 start,
        uint64 end,
        bytes32 reason,
        uint256 budget
    );

    /// @notice The allowance campaign managers draw budgets of `kind` campaigns from is now `allowance`.
    event CampaignAllowanceSet(uint8 indexed kind, uint256 allowance);

    /// @notice Emitted when campaign `campaignId`'s Merkle root is set (also by {createCampaign} given a root).
    event RootSet(uint256 indexed campaignId, bytes32 root);

    /// @notice Emitted when the expiry of the cards a card campaign enrolls is set.
    event CardValidUntilSet(uint256 indexed campaignId, uint64 validUntil);

    /// @notice Emitted when campaign `campaignId` is closed early: its claim window now ends at `end`.
    event CampaignClosed(uint256 indexed campaignId, uint64 end);

    /**
     * @notice Campaign `campaignId` opens at `earlyStart` for holders of `collection` (asked as `kind`) and, if
     * `byTier`, for members of `minTier` or above; everyone else waits for its start. `earlyStart` 0: removed.
     */
    event EarlyAccessSet(
        uint256 indexed campaignId,
        uint40 earlyStart,
        address collection,
        EarlyAccessKind kind,
        bool byTier,
        uint8 minTier
    );

    /// @notice Emitted when leaf `index` of campaign `campaignId` is claimed; `amount` is the points, or the card tier.
    event Claimed(uint256 indexed campaignId, uint256 indexed index, address indexed account, uint256 amount);

    // ---------------------------------------------------------------- errors

    /**
     * @notice `root` has already been published, by campaign `campaignId`: one tree, one campaign.
     * @param root The root given.
     * @param campaignId The campaign that published it first.
     */
    error AirdropRootAlreadyPublished(bytes32 root, uint256 campaignId);

    /**
     * @notice The campaign's claim window is already over, so it cannot be closed.
     * @param campaignId The campaign.
     * @param end The last second of its window.
     * @param blockTime The current block's timestamp.
     */
    error AirdropAlreadyClosed(uint256 campaignId, uint64 end, uint256 blockTime);

    /**
     * @notice `kind` is neither KIND_POINTS (0) nor KIND_CARDS (1).
     * @param kind The kind given.
     */
    error AirdropInvalidKind(uint8 kind);

    /**
     * @notice The claim window is empty or already over.
     * @param start The start given.
     * @param end The end given.
     * @param blockTime The current block's timestamp.
     */
    error AirdropInvalidWindow(uint64 start, uint64 end, uint256 blockTime);

    /**
     * @notice No campaign has id `campaignId`.
     * @param campaignId The id asked for (ids run from 1 to {campaignCount}).
     */
    error AirdropUnknownCampaign(uint256 campaignId);

    /**
     * @notice The campaign is of another kind than the claim or setting asks for.
     * @param campaignId The campaign.
     * @param kind The campaign's kind.
     * @param expected The kind the call needs.
     */
    error AirdropWrongKind(uint256 campaignId, uint8 kind, uint8 expected);

    /**
     * @notice The campaign's root has not been published.
     * @param campaignId The campaign.
     */
    error AirdropRootNotSet(uint256 campaignId);

    /**
     * @notice The campaign has had claims, so its root and card expiry are frozen.
     * @param campaignId The campaign.
     */
    error AirdropClaimsStarted(uint256 campaignId);

    /**
     * @notice The claim window has not opened yet.
     * @param campaignId The campaign.
     * @param start The first second of the window.
     * @param blockTime The current block's timestamp.
     */
    error AirdropNotStarted(uint256 campaignId, uint64 start, uint256 blockTime);

    /**
     * @notice The claim window is over.
     * @param campaignId The campaign.
     * @param end The last second of the window.
     * @param blockTime The current block's timestamp.
     */
    error AirdropEnded(uint256 campaignId, uint64 end, uint256 blockTime);

    /**
     * @notice Leaf `index` has already been claimed.
     * @param campaignId The campaign.
     * @param index The leaf index.
     */
    error AirdropAlreadyClaimed(uint256 campaignId, uint256 index);

    /**
     * @notice The proof does not prove the leaf under the campaign's root.
     * @param campaignId The campaign.
     * @param index The leaf index claimed.
     * @param account The leaf account claimed.
     */
    error AirdropInvalidProof(uint256 campaignId, uint256 index, address account);

    /**
     * @notice A budget of zero, or one above 2**120 - 1.
     * @param budget The budget given.
     */
    error AirdropInvalidBudget(uint256 budget);

    /**
     * @notice A campaign manager asked for a budget above what the admin allows.
     * @param kind The campaign kind.
     * @param budget The budget asked for.
     * @param allowance What is left of the allowance for that kind.
     */
    error AirdropAllowanceExceeded(uint8 kind, uint256 budget, uint256 allowance);

    /**
     * @notice The claim would take the campaign over its mint budget.
     * @param campaignId The campaign.
     * @param amount Points (or 1 card) the claim would mint.
     * @param budgetLeft What the campaign may still mint.
     */
    error AirdropBudgetExceeded(uint256 campaignId, uint256 amount, uint256 budgetLeft);

    /**
     * @notice A card expiry that is not after the claim window (later claimers could never be enrolled).
     * @param campaignId The campaign.
     * @param validUntil The expiry given.
     * @param end The last second of the claim window.
     */
    error AirdropCardExpiryInWindow(uint256 campaignId, uint64 validUntil, uint64 end);

    /**
     * @notice An early-access setting that cannot work: `earlyStart` not before the campaign's start, no route
     * in (no collection and not by tier), a collection without its kind (or the reverse), values given with
     * `earlyStart` 0, or a tier the card does not have.
     * @param campaignId The campaign.
     * @param earlyStart The early start given.
     * @param start The campaign's start.
     */
    error AirdropInvalidEarlyAccess(uint256 campaignId, uint256 earlyStart, uint256 start);

    /**
     * @notice A claim for `account` in campaign `campaignId`'s early window, but `account` neither holds the
     * collection nor has the tier.
     * @param campaignId The campaign.
     * @param account The leaf's account.
     * @param start When everyone may claim.
     */
    error AirdropNotEarlyEligible(uint256 campaignId, address account, uint256 start);

    // ---------------------------------------------------------------- storage

    ILoyaltyPoints private immutable _points;
    IMembershipCard private immutable _card;

    /// @dev Settings live under the campaign's current root only (under 0 while it has none).
    mapping(bytes32 root => mapping(uint256 campaignId => Settings)) private _settings;
    mapping(uint256 campaignId => bytes32) private _roots;
    mapping(uint256 campaignId => bytes32) private _reasons;
    mapping(bytes32 root => uint256 campaignId) private _publishedBy;
    mapping(uint256 campaignId => mapping(uint256 wordIndex => uint256 bits)) private _claimedBitmap;
    uint256 private _campaignCount;
    mapping(uint8 kind => uint256) private _allowances;
    mapping(uint256 campaignId => EarlyAccess) private _early;

    // ---------------------------------------------------------------- constructor

    /**
     * @param points_ The points token; the distributor must be granted its ISSUER_ROLE.
     * @param card_ The membership card; the distributor must be granted its ISSUER_ROLE.
     * @param admin Receives DEFAULT_ADMIN_ROLE and CAMPAIGN_MANAGER_ROLE.
     */
    constructor(ILoyaltyPoints points_, IMembershipCard card_, address admin) {
        _points = points_;
        _card = card_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CAMPAIGN_MANAGER_ROLE, admin);
    }

    // ---------------------------------------------------------------- campaign management

    /**
     * @notice Creates a campaign; ids run 1, 2, 3, ... `root` may be zero and published later with {setRoot}.
     *
     * Requirements:
     * - the caller has CAMPAIGN_MANAGER_ROLE;
     * - `kind` is KIND_POINTS (0) or KIND_CARDS (1);
     * - `start < end`, `end` is not in the past and below 2**40;
     * - `root` is zero or has never been published;
     * - `budget` is 1 to 2**120 - 1 ({AirdropInvalidBudget}) and, unless the caller has DEFAULT_ADMIN_ROLE,
     *   at most the allowance left for `kind` ({AirdropAllowanceExceeded}), which it is drawn from.
     *
     * Emits a {CampaignCreated} event, a {RootSet} event when `root` is not zero, and a
     * {CampaignAllowanceSet} event when the budget is drawn from the allowance.
     * @param budget The most this campaign may mint: points (base units) or cards.
     * @return campaignId The new campaign's id.
     */
    function createCampaign(uint8 kind, bytes32 root, uint64 start, uint64 end, bytes32 reason, uint256 budget)
        external
        onlyRole(CAMPAIGN_MANAGER_ROLE)
        returns (uint256 campaignId)
    {
        if (kind > KIND_CARDS) revert AirdropInvalidKind(kind);
        // slither-disable-next-line timestamp (claim windows are in seconds; miners' leeway is irrelevant)
        if (end <= start || end < block.timestamp || end > type(uint40).max) {
            revert AirdropInvalidWindow(start, end, block.timestamp);
        }
        if (budget == 0 || budget > type(uint120).max) revert AirdropInvalidBudget(budget);
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            uint256 allowance = _allowances[kind];
            if (budget > allowance) revert AirdropAllowanceExceeded(kind, budget, allowance);
            unchecked {
                // checked just above
                _allowances[kind] = allowance - budget;
            }
            emit CampaignAllowanceSet(kind, allowance - budget);
        }
        unchecked {
            // one id per transaction: the counter cannot reach 2^256
            campaignId = ++_campaignCount;
        }
        _recordRoot(root, campaignId);
        // Both fit: end < 2**40 and start < end; budget < 2**120.
        _settings[root][campaignId] = Settings({
            start: uint40(start),
            end: uint40(end),
            cardValidUntil: 0,
            kind: kind,
            claimsStarted: false,
            budgetLeft: uint120(budget)
        });
        _roots[campaignId] = root;
        _reasons[campaignId] = reason;
        emit CampaignCreated(campaignId, kind, start, end, reason, budget);
        if (root != bytes32(0)) emit RootSet(campaignId, root);
    }

    /**
     * @notice Sets how many points (KIND_POINTS) or cards (KIND_CARDS) campaign managers may still budget for
     * new campaigns of `kind`, in total.
     *
     * Requirements:
     * - the caller has DEFAULT_ADMIN_ROLE;
     * - `kind` is KIND_POINTS (0) or KIND_CARDS (1).
     *
     * Emits a {CampaignAllowanceSet} event.
     */
    function setCampaignAllowance(uint8 kind, uint256 allowance) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (kind > KIND_CARDS) revert AirdropInvalidKind(kind);
        _allowances[kind] = allowance;
        emit CampaignAllowanceSet(kind, allowance);
    }

    /**
     * @notice Publishes (or replaces, or with zero withdraws) the Merkle root of campaign `campaignId`.
     *
     * Requirements:
     * - the caller has CAMPAIGN_MANAGER_ROLE;
     * - campaign `campaignId` exists and has had no claim yet;
     * - `root` is zero or has never been published.
     *
     * Emits a {RootSet} event.
     */
    function setRoot(uint256 campaignId, bytes32 root) external onlyRole(CAMPAIGN_MANAGER_ROLE) {
        bytes32 current = _roots[campaignId];
        Settings memory settings = _unclaimedCampaign(current, campaignId);
        _recordRoot(root, campaignId);
        delete _settings[current][campaignId];
        _settings[root][campaignId] = settings;
        _roots[campaignId] = root;
        emit RootSet(campaignId, root);
    }

    /**
     * @notice Sets the expiry (unix seconds, 0 = never) of the cards that card campaign `campaignId` enrolls.
     *
     * Requirements:
     * - the caller has CAMPAIGN_MANAGER_ROLE;
     * - campaign `campaignId` exists, is a card campaign and has had no claim yet;
     * - `validUntil` is 0 or after the claim window's last second, and below 2**40
     *   ({AirdropCardExpiryInWindow}): a card that expires during the window could not be enrolled by anyone
     *   claiming after that.
     *
     * Emits a {CardValidUntilSet} event.
     */
    function setCardValidUntil(uint256 campaignId, uint64 validUntil) external onlyRole(CAMPAIGN_MANAGER_ROLE) {
        bytes32 current = _roots[campaignId];
        Settings memory settings = _unclaimedCampaign(current, campaignId);
        if (settings.kind != KIND_CARDS) revert AirdropWrongKind(campaignId, settings.kind, KIND_CARDS);
        if (validUntil != 0 && (validUntil <= settings.end || validUntil > type(uint40).max)) {
            revert AirdropCardExpiryInWindow(campaignId, validUntil, settings.end);
        }
        // Fits: checked just above.
        _settings[current][campaignId].cardValidUntil = uint40(validUntil);
        emit CardValidUntilSet(campaignId, validUntil);
    }

    /**
     * @notice Closes campaign `campaignId` now: its claim window ends at the previous second, so no claim is
     * accepted from this block on. Its unclaimed points or cards are simply never minted.
     *
     * Requirements:
     * - the caller has CAMPAIGN_MANAGER_ROLE;
     * - campaign `campaignId` exists and its window is not over yet.
     *
     * Emits a {CampaignClosed} event.
     */
    function closeCampaign(uint256 campaignId) external onlyRole(CAMPAIGN_MANAGER_ROLE) {
        Settings storage stored = _settings[_roots[campaignId]][campaignId];
        uint64 end = stored.end;
        if (end == 0) revert AirdropUnknownCampaign(campaignId);
        // slither-disable-next-line timestamp (claim windows are in seconds; miners' leeway is irrelevant)
        if (end < block.timestamp) revert AirdropAlreadyClosed(campaignId, end, block.timestamp);
        // end >= block.timestamp >= 1 here, so the new end is never 0 (0 marks "no campaign")
        uint64 closedAt = uint64(block.timestamp - 1);
        // Fits: closedAt < end < 2**40.
        stored.end = uint40(closedAt);
        emit CampaignClosed(campaignId, closedAt);
    }

    /**
     * @notice Opens campaign `campaignId` early, from `earlyStart`, to claims for holders of `collection` and/or
     * for members of `minTier` or above (`byTier`: their card of this program, active and not on hold);
     * everyone else from the campaign's start. Checked live at each claim (no snapshot). `earlyStart` 0
     * removes early access (the other values must then be empty too).
     *
     * Requirements:
     * - the caller has CAMPAIGN_MANAGER_ROLE;
     * - campaign `campaignId` exists ({AirdropUnknownCampaign});
     * - unless removing: `earlyStart` is before the campaign's start, there is a route in, `collection` is
     *   zero exactly when `kind` is `None`, and `minTier` is one of the card's tiers
     *   ({AirdropInvalidEarlyAccess}).
     *
     * Emits an {EarlyAccessSet} event.
     */
    function setEarlyAccess(
        uint256 campaignId,
        uint40 earlyStart,
        address collection,
        EarlyAccessKind kind,
        bool byTier,
        uint8 minTier
    ) external onlyRole(CAMPAIGN_MANAGER_ROLE) {
        uint40 start = _existingCampaign(_roots[campaignId], campaignId).start;
        bool removing = earlyStart == 0;
        bool noCollection = collection == address(0);
        if (
            removing
                ? (!noCollection || kind != EarlyAccessKind.None || byTier || minTier != 0)
                : (earlyStart >= start ||
                    (noCollection && !byTier) ||
                    noCollection != (kind == EarlyAccessKind.None) ||
                    minTier >= _card.tierCount())
        ) revert AirdropInvalidEarlyAccess(campaignId, earlyStart, start);
        _early[campaignId] = EarlyAccess(earlyStart, collection, kind, byTier, minTier);
        emit EarlyAccessSet(campaignId, earlyStart, collection, kind, byTier, minTier);
    }

    // ---------------------------------------------------------------- claims

    /**
     * @notice Claims leaf `(index, account, amount)` of points campaign `campaignId`: mints `amount` points
     * to `account`. Anyone may submit it; the points always go to `account`.
     *
     * Requirements:
     * - campaign `campaignId` exists, is a points campaign, has a root and its window is open;
     * - `proof` proves the leaf under the root and leaf `index` is not claimed yet;
     * - `amount` is within the campaign's budget left ({AirdropBudgetExceeded});
     * - the points token accepts the mint (not paused, cap not exceeded, non-zero amount).
     *
     * Emits a {Claimed} event (and the token's mint events).
     */
    function claimPoints(
        uint256 campaignId,
        uint256 index,
        address account,
        uint256 amount,
        bytes32[] calldata proof
    ) external {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(index, account, amount))));
        _claim(campaignId, KIND_POINTS, index, account, leaf, proof, amount);
        emit Claimed(campaignId, index, account, amount);
        _points.issue(account, amount, AIRDROP_REASON);
    }

    /**
     * @notice Claims leaf `(index, account, tier)` of card campaign `campaignId`: enrolls `account` at
     * `tier`. Anyone may submit it; the card always goes to `account`.
     *
     * Requirements:
     * - campaign `campaignId` exists, is a card campaign, has a root and its window is open;
     * - `proof` proves the leaf under the root and leaf `index` is not claimed yet;
     * - the campaign's budget has a card left ({AirdropBudgetExceeded});
     * - the card accepts the enrollment (`account` holds no card, `tier` exists).
     *
     * Emits a {Claimed} event with the tier as amount (and the card's enrollment events).
     * @return tokenId The id of the card enrolled.
     */
    function claimCard(uint256 campaignId, uint256 index, address account, uint8 tier, bytes32[] calldata proof)
        external
        returns (uint256 tokenId)
    {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(index, account, tier))));
        uint64 validUntil = _claim(campaignId, KIND_CARDS, index, account, leaf, proof, 1);
        emit Claimed(campaignId, index, account, tier);
        return _card.enroll(account, tier, validUntil);
    }

    // ---------------------------------------------------------------- views

    /**
     * @notice Campaign `campaignId`'s early access: from `earlyStart` (0: none) for holders of `collection`
     * (asked as `kind`) and, if `byTier`, for members of `minTier` or above.
     */
    function earlyAccess(uint256 campaignId)
        external
        view
        returns (uint40 earlyStart, address collection, EarlyAccessKind kind, bool byTier, uint8 minTier)
    {
        EarlyAccess memory a = _early[campaignId];
        return (a.earlyStart, a.collection, a.kind, a.byTier, a.minTier);
    }

    /// @notice Whether leaf `index` of campaign `campaignId` has been claimed.
    function isClaimed(uint256 campaignId, uint256 index) external view returns (bool) {
        return _claimedBitmap[campaignId][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /**
     * @notice The settings of campaign `campaignId`, and whether it has had a claim.
     *
     * Requirements:
     * - campaign `campaignId` exists.
     */
    function campaign(uint256 campaignId)
        external
        view
        returns (
            uint8 kind,
            bytes32 root,
            uint64 start,
            uint64 end,
            bytes32 reason,
            uint64 cardValidUntil,
            bool claimsStarted,
            uint256 budgetLeft
        )
    {
        root = _roots[campaignId];
        Settings memory settings = _existingCampaign(root, campaignId);
        return (
            settings.kind,
            root,
            settings.start,
            settings.end,
            _reasons[campaignId],
            settings.cardValidUntil,
            settings.claimsStarted,
            settings.budgetLeft
        );
    }

    /// @notice What campaign managers may still budget for new campaigns of `kind` (points or cards).
    function campaignAllowance(uint8 kind) external view returns (uint256) {
        return _allowances[kind];
    }

    /// @notice The number of campaigns ever created (the highest campaign id).
    function campaignCount() external view returns (uint256) {
        return _campaignCount;
    }

    /// @notice The points token minted by points campaigns.
    function points() external view returns (ILoyaltyPoints) {
        return _points;
    }

    /// @notice The membership card enrolled by card campaigns.
    function card() external view returns (IMembershipCard) {
        return _card;
    }

    // ---------------------------------------------------------------- internals

    /// @dev The checks and effects of a claim minting `amount` (points, or 1 card); the caller emits and then
    /// calls out. Returns the card expiry.
    function _claim(
        uint256 campaignId,
        uint8 kind,
        uint256 index,
        address account,
        bytes32 leaf,
        bytes32[] calldata proof,
        uint256 amount
    ) private returns (uint64 cardValidUntil) {
        Settings storage stored = _provenSettings(campaignId, index, account, leaf, proof);
        Settings memory settings = stored;
        if (settings.kind != kind) revert AirdropWrongKind(campaignId, settings.kind, kind);
        // Only before the start is the early-access slot read: claims in the window cost what they did.
        // slither-disable-next-line timestamp (claim windows are in seconds; miners' leeway is irrelevant)
        if (block.timestamp < settings.start) _requireEarly(campaignId, account, settings.start);
        // slither-disable-next-line timestamp
        if (block.timestamp > settings.end) revert AirdropEnded(campaignId, settings.end, block.timestamp);
        if (amount > settings.budgetLeft) revert AirdropBudgetExceeded(campaignId, amount, settings.budgetLeft);
        _markClaimed(campaignId, index);
        // The slot read above is written back (warm): the budget left and the claims-started flag.
        unchecked {
            // checked just above: amount <= budgetLeft < 2**120
            stored.budgetLeft = settings.budgetLeft - uint120(amount);
        }
        if (!settings.claimsStarted) stored.claimsStarted = true;
        return settings.cardValidUntil;
    }

    /**
     * @dev The settings of campaign `campaignId` stored under the root that `proof` leads to from `leaf`.
     * Settings exist only under a campaign's current root, so finding them IS the proof check (the zero
     * "root" of a campaign without one is refused first, though no keccak256 output is zero).
     */
    function _provenSettings(
        uint256 campaignId,
        uint256 index,
        address account,
        bytes32 leaf,
        bytes32[] calldata proof
    ) private view returns (Settings storage stored) {
        bytes32 provenRoot = MerkleProof.processProofCalldata(proof, leaf);
        stored = _settings[provenRoot][campaignId];
        if (provenRoot == bytes32(0) || stored.end == 0) _revertUnproven(campaignId, index, account);
    }

    /**
     * @dev A claim for `account` before the campaign's `start`: accepted only in its early window and for an
     * eligible account, asked now: by tier (its card of this program active, not on hold, of `minTier` or
     * above), or holding the collection (a loyalty card collection: a card not on hold).
     */
    function _requireEarly(uint256 campaignId, address account, uint40 start) private view {
        EarlyAccess memory access = _early[campaignId];
        // slither-disable-next-line timestamp
        if (access.earlyStart == 0 || block.timestamp < access.earlyStart) {
            revert AirdropNotStarted(campaignId, start, block.timestamp);
        }
        if (access.byTier) {
            (uint256 tokenId, uint8 tier, bool active, uint64 holdUntil) = _card.memberCard(account);
            // slither-disable-next-line timestamp
            if (tokenId != 0 && active && holdUntil <= block.timestamp && tier >= access.minTier) return;
        }
        if (access.kind == EarlyAccessKind.ERC721) {
            if (IERC721(access.collection).balanceOf(account) > 0) return;
        } else if (access.kind == EarlyAccessKind.LoyaltyCard) {
            // slither-disable-next-line unused-return (the tier and the expiry do not matter here)
            (uint256 tokenId, , , uint64 holdUntil) = IMembershipCard(access.collection).memberCard(account);
            // slither-disable-next-line timestamp
            if (tokenId != 0 && holdUntil <= block.timestamp) return;
        }
        revert AirdropNotEarlyEligible(campaignId, account, start);
    }

    /// @dev Sets the claimed flag of leaf `index`, refusing a second claim.
    function _markClaimed(uint256 campaignId, uint256 index) private {
        uint256 wordIndex = index >> 8;
        uint256 mask = 1 << (index & 0xff);
        uint256 word = _claimedBitmap[campaignId][wordIndex];
        if (word & mask != 0) revert AirdropAlreadyClaimed(campaignId, index);
        _claimedBitmap[campaignId][wordIndex] = word | mask;
    }

    /// @dev Why a claim's proof found no settings: no such campaign, no root yet, or a bad proof.
    function _revertUnproven(uint256 campaignId, uint256 index, address account) private view {
        bytes32 root = _roots[campaignId];
        _existingCampaign(root, campaignId);
        if (root == bytes32(0)) revert AirdropRootNotSet(campaignId);
        revert AirdropInvalidProof(campaignId, index, account);
    }

    /// @dev Marks a non-zero `root` as published by `campaignId`, refusing one published before.
    function _recordRoot(bytes32 root, uint256 campaignId) private {
        if (root == bytes32(0)) return;
        uint256 first = _publishedBy[root];
        if (first != 0) revert AirdropRootAlreadyPublished(root, first);
        _publishedBy[root] = campaignId;
    }

    function _existingCampaign(bytes32 root, uint256 campaignId) private view returns (Settings memory settings) {
        settings = _settings[root][campaignId];
        // slither-disable-next-line incorrect-equality (0 is "never created"; a closed end is a real time)
        if (settings.end == 0) revert AirdropUnknownCampaign(campaignId);
    }

    function _unclaimedCampaign(bytes32 root, uint256 campaignId) private view returns (Settings memory settings) {
        settings = _existingCampaign(root, campaignId);
        if (settings.claimsStarted) revert AirdropClaimsStarted(campaignId);
    }
}
