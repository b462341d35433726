// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/**
 * @title OZRedeemBaseline
 * @notice Bench-only baseline: PerkCatalog's redemption written as a plain composition of OpenZeppelin parts.
 * A redemption does everything PerkCatalog's does:
 * - the member holds a card: OZ ERC721 `balanceOf` on the OZ card baseline;
 * - the card's tier and expiry, which an OZ ERC721 does not have: a `memberships` mapping kept here;
 * - the perk exists, is active, inside its sale window, and the member's tier is high enough;
 * - stock: `sold += quantity`, checked against `stock`;
 * - per-wallet limit: a `redeemedBy` count, kept (as in PerkCatalog) only for perks that have a limit;
 * - a sequential redemption id (a counter) and a `PerkRedeemed` event with PerkCatalog's fields;
 * - the points are burned with OZ ERC20Burnable `burnFrom`, which spends an allowance the member approved
 *   to this contract beforehand (an extra transaction, exact or unlimited: the bench measures both).
 * The gasless path verifies the same EIP-712 request as PerkCatalog with OZ EIP712, Nonces and
 * SignatureChecker.
 *
 * @dev Plain Solidity on purpose: checked arithmetic, OZ's stock functions, no assembly. The one thing taken
 * from PerkCatalog is the perk struct's field widths, so the perk is one storage slot on both sides and the
 * comparison is about the OZ parts (a struct of uint256 fields would cost this baseline ~4 more cold
 * SLOADs, ~8,400 gas, per redemption).
 */
contract OZRedeemBaseline is AccessControl, EIP712, Nonces {
    bytes32 public constant REDEMPTION_TYPEHASH =
        keccak256("Redemption(address member,uint256 perkId,uint256 quantity,uint256 nonce,uint256 deadline)");

    struct Perk {
        uint96 price;
        uint32 stock;
        uint32 sold;
        uint32 startTime;
        uint32 endTime; // 0 = never ends
        uint16 walletLimit; // 0 = no limit
        uint8 minTier;
        bool active;
    }

    struct Membership {
        uint8 tier;
        uint64 validUntil; // 0 = never expires
    }

    ERC20Burnable public immutable points;
    IERC721 public immutable card;

    mapping(uint256 perkId => Perk) public perks;
    mapping(address member => Membership) public memberships;
    mapping(uint256 perkId => mapping(address member => uint256)) public redeemedBy;
    uint256 public perkCount;
    uint256 public redemptionCount;

    event PerkRedeemed(
        uint256 indexed redemptionId,
        uint256 indexed perkId,
        address indexed member,
        uint256 quantity,
        uint256 pointsBurned
    );

    error ZeroQuantity(uint256 perkId);
    error PerkUnavailable(uint256 perkId);
    error OutsideSaleWindow(uint256 perkId, uint256 blockTime);
    error NotAMember(address member);
    error MembershipExpired(address member, uint256 validUntil);
    error TierTooLow(address member, uint8 tier, uint8 minTier);
    error OutOfStock(uint256 perkId, uint256 requested, uint256 available);
    error WalletLimitExceeded(uint256 perkId, address member, uint256 requested, uint256 alreadyRedeemed);
    error ExpiredSignature(uint256 deadline);
    error InvalidSignature(address member);

    constructor(ERC20Burnable points_, IERC721 card_) EIP712("OZRedeemBaseline", "1") {
        points = points_;
        card = card_;
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    function addPerk(Perk calldata perk) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 perkId) {
        perkId = ++perkCount;
        perks[perkId] = perk;
    }

    function setMembership(address member, uint8 tier, uint64 validUntil) external onlyRole(DEFAULT_ADMIN_ROLE) {
        memberships[member] = Membership(tier, validUntil);
    }

    function redeem(uint256 perkId, uint256 quantity) external returns (uint256) {
        return _redeem(msg.sender, perkId, quantity);
    }

    function redeemWithSignature(
        address member,
        uint256 perkId,
        uint256 quantity,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256) {
        if (block.timestamp > deadline) revert ExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(REDEMPTION_TYPEHASH, member, perkId, quantity, _useNonce(member), deadline)
        );
        if (!SignatureChecker.isValidSignatureNow(member, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(member);
        }
        return _redeem(member, perkId, quantity);
    }

    function _redeem(address member, uint256 perkId, uint256 quantity) private returns (uint256 redemptionId) {
        if (quantity == 0) revert ZeroQuantity(perkId);
        Perk memory perk = perks[perkId];
        if (perk.price == 0 || !perk.active) revert PerkUnavailable(perkId);
        if (block.timestamp < perk.startTime || (perk.endTime != 0 && block.timestamp > perk.endTime)) {
            revert OutsideSaleWindow(perkId, block.timestamp);
        }

        if (card.balanceOf(member) == 0) revert NotAMember(member);
        Membership memory membership = memberships[member];
        if (membership.validUntil != 0 && membership.validUntil < block.timestamp) {
            revert MembershipExpired(member, membership.validUntil);
        }
        if (membership.tier < perk.minTier) revert TierTooLow(member, membership.tier, perk.minTier);

        if (perk.sold + quantity > perk.stock) revert OutOfStock(perkId, quantity, perk.stock - perk.sold);
        perks[perkId].sold = uint32(perk.sold + quantity);

        if (perk.walletLimit != 0) {
            uint256 count = redeemedBy[perkId][member] + quantity;
            if (count > perk.walletLimit) {
                revert WalletLimitExceeded(perkId, member, quantity, redeemedBy[perkId][member]);
            }
            redeemedBy[perkId][member] = count;
        }

        redemptionId = ++redemptionCount;
        uint256 cost = perk.price * quantity;
        emit PerkRedeemed(redemptionId, perkId, member, quantity, cost);
        points.burnFrom(member, cost);
    }
}
