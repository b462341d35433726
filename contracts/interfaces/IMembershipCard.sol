// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IMembershipCard
 * @notice What other loyalty_chain contracts (the perk catalog, the airdrop distributor) ask of the
 * membership card: who is an active member and at what tier. At most one card per wallet.
 *
 * Roles (AccessControl): DEFAULT_ADMIN_ROLE (0x00), ISSUER_ROLE = keccak256("ISSUER_ROLE"),
 * TIER_SYNC_ROLE = keccak256("TIER_SYNC_ROLE").
 * Tiers are ordered, lowest first: tier 0 is the lowest, `tierCount() - 1` the highest.
 */
interface IMembershipCard {
    /**
     * @notice Issues a card to `member` at `tier`, valid until `validUntil` (unix seconds, 0 = never expires).
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - `member` is not the zero address and holds no card;
     * - `tier < tierCount()`;
     * - `validUntil` is 0 or not before the current block timestamp.
     *
     * Emits a {IERC721-Transfer} event from the zero address, a `MemberEnrolled` event and, in soulbound
     * mode, an ERC-5192 `Locked` event.
     * @return tokenId the id of the new card.
     */
    function enroll(address member, uint8 tier, uint64 validUntil) external returns (uint256 tokenId);

    /**
     * @notice Whether `account` holds a card that has not expired (validUntil == 0 or >= block.timestamp),
     * and the tier of the card it holds (the tier is reported even when the card has expired; 0 if no card).
     */
    function activeTierOf(address account) external view returns (bool active, uint8 tier);

    /**
     * @notice What a perk catalog checks before a redemption: the card `account` holds (`tokenId`, 0 if
     * none), its tier, whether it has not expired, and until when it is on hold (unix seconds; 0 if it never
     * moved by transfer). A card received by transfer is on hold for the program's holding period, so a
     * card lent from wallet to wallet cannot be used at once by each of them; limits are per `tokenId`.
     */
    function memberCard(address account)
        external
        view
        returns (uint256 tokenId, uint8 tier, bool active, uint64 holdUntil);

    /// @notice Whether `account` holds a card that has not expired; same as `activeTierOf(account).active`.
    function isActiveMember(address account) external view returns (bool);

    /**
     * @notice Moves cards as qualifying activity decided: each word of `changes` is
     * `uint256(uint160(member)) | (uint256(from) << 160) | (uint256(to) << 168)`. An upgrade raises a card
     * below `to`; a downgrade lowers a card still at `from`; a tier set by hand otherwise stays; a member
     * without a card is skipped.
     *
     * Requirements: the caller has TIER_SYNC_ROLE = keccak256("TIER_SYNC_ROLE"); `changes` is not empty;
     * every `to` is below `tierCount()`.
     *
     * Emits a `TierChanged` and an ERC-4906 `MetadataUpdate` event per card moved.
     */
    function syncTiers(uint256[] calldata changes) external;

    /// @notice The number of tiers named at deploy (1..255).
    function tierCount() external view returns (uint8);
}
