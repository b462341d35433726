// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/**
 * @title ILoyaltyPoints
 * @notice What other loyalty_chain contracts (the perk catalog, the airdrop distributor) call on the
 * points token. The token is a plain ERC-20 (with metadata) plus role-gated issue and redemption.
 *
 * Roles (AccessControl): DEFAULT_ADMIN_ROLE (0x00), ISSUER_ROLE = keccak256("ISSUER_ROLE"),
 * PAUSER_ROLE = keccak256("PAUSER_ROLE"), REDEEMER_ROLE = keccak256("REDEEMER_ROLE").
 */
interface ILoyaltyPoints is IERC20Metadata {
    /**
     * @notice Mints `amount` points to `to`, tagged with `reason` (e.g. "purchase", "referral", "airdrop").
     *
     * Requirements:
     * - the caller has ISSUER_ROLE;
     * - the token is not paused;
     * - `to` is not the zero address and `amount` is not zero;
     * - the supply cap (if any) is not exceeded.
     *
     * Emits a {Transfer} event from the zero address and a `PointsIssued` summary event.
     */
    function issue(address to, uint256 amount, bytes32 reason) external;

    /**
     * @notice Burns `amount` points held by `from` on redemption of a perk. No allowance is needed and it
     * works under every transfer policy (open, locked, allowlist).
     *
     * Requirements:
     * - the caller has REDEEMER_ROLE (the perk catalog);
     * - the token is not paused;
     * - `from` is not the zero address, `amount` is not zero and `from` holds at least `amount`.
     *
     * Emits a {Transfer} event to the zero address.
     */
    function redeemBurn(address from, uint256 amount) external;
}
