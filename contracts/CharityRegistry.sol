// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";

/**
 * @title CharityRegistry
 * @notice Giving for one loyalty program: a charity manager registers charities; a member donates points to
 * one of them in one call. The donated points are burned from the member (through this registry's
 * REDEEMER_ROLE on the points token, so giving works under every transfer policy: open, locked or allowlist)
 * and added to the charity's running total; the brand settles the totals with the charities off chain
 * (e.g. a cent per point), as brands running points-for-charity do.
 *
 * @dev Note (deliberate choices):
 * - Points are burned, not transferred to the charity's wallet: a transfer would be refused under the
 *   `Locked` policy and would leave the charity holding points it cannot use. The charity's `wallet` names
 *   who the brand pays; it never receives points.
 * - A charity's active flag and running total share one storage slot, so a donation reads and writes one
 *   slot of this contract (besides the token's balance and supply). Totals are uint248: more than any
 *   supply a uint96-per-issue token reaches.
 * - Charities are never deleted (their totals are history); {setCharityActive} stops new donations.
 * - Zero-point donations are refused by the token ({PointsZeroAmount}); a paused token refuses donations.
 */
contract CharityRegistry is AccessControl {
    /// @notice Role allowed to register, edit and (de)activate charities. Preimage: keccak256("CHARITY_MANAGER_ROLE").
    bytes32 public constant CHARITY_MANAGER_ROLE = keccak256("CHARITY_MANAGER_ROLE");

    /// @dev One slot: what a donation reads and writes (248 + 8 bits).
    struct Tally {
        uint248 donated; // points donated so far
        bool active; // accepts donations
    }

    /// @notice The points token whose points are donated.
    ILoyaltyPoints public immutable points;

    /// @dev Charity ids run from 1 to `_charityCount`; 0 is never a charity.
    uint256 private _charityCount;
    mapping(uint256 charityId => Tally) private _tallies;
    mapping(uint256 charityId => address) private _wallets;
    mapping(uint256 charityId => bytes32) private _names;

    // ---------------------------------------------------------------- events

    /// @notice Charity `charityId` was registered: `name` (UTF-8, zero-padded), paid to `wallet`; it accepts donations.
    event CharityAdded(uint256 indexed charityId, address indexed wallet, bytes32 name);

    /// @notice Charity `charityId` now has `wallet`, `name` and `active` (by {updateCharity} or {setCharityActive}).
    event CharityUpdated(uint256 indexed charityId, address indexed wallet, bytes32 name, bool active);

    /// @notice `member` donated `amount` points to charity `charityId`, whose running total is now `charityTotal`.
    event Donated(address indexed member, uint256 indexed charityId, uint256 amount, uint256 charityTotal);

    // ---------------------------------------------------------------- errors

    /**
     * @notice No charity has id `charityId`.
     * @param charityId The id asked for (ids run from 1 to {charityCount}).
     */
    error GivingUnknownCharity(uint256 charityId);

    /**
     * @notice Charity `charityId` does not accept donations now (deactivated by a charity manager).
     * @param charityId The charity.
     */
    error GivingCharityInactive(uint256 charityId);

    /**
     * @notice A charity needs a wallet (who the brand pays) and a name.
     * @param wallet The wallet given.
     * @param name The name given.
     */
    error GivingInvalidCharity(address wallet, bytes32 name);

    /**
     * @notice A donation would take charity `charityId`'s total past uint248 (no real supply gets there).
     * @param charityId The charity.
     * @param amount The amount that would not fit.
     */
    error GivingTotalTooLarge(uint256 charityId, uint256 amount);

    /**
     * @notice The constructor was given an unusable address.
     * @param points The points token given.
     * @param admin The admin given.
     */
    error GivingInvalidSetup(address points, address admin);

    /**
     * @param points_ The program's points token; this registry needs its REDEEMER_ROLE to take donations.
     * @param admin Receives DEFAULT_ADMIN_ROLE and CHARITY_MANAGER_ROLE.
     */
    constructor(ILoyaltyPoints points_, address admin) {
        if (address(points_) == address(0) || admin == address(0)) revert GivingInvalidSetup(address(points_), admin);
        points = points_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(CHARITY_MANAGER_ROLE, admin);
    }

    // ---------------------------------------------------------------- charities

    /**
     * @notice Registers a charity that accepts donations from now on.
     *
     * Requirements:
     * - the caller has CHARITY_MANAGER_ROLE;
     * - `wallet` is not the zero address and `name` is not empty ({GivingInvalidCharity}).
     *
     * Emits a {CharityAdded} event.
     * @param wallet Who the brand pays the donated value to (it never receives points).
     * @param name The charity's name, UTF-8 right-padded with zeros.
     * @return charityId The new charity's id (1 for the first).
     */
    function addCharity(address wallet, bytes32 name) external onlyRole(CHARITY_MANAGER_ROLE) returns (uint256 charityId) {
        if (wallet == address(0) || name == bytes32(0)) revert GivingInvalidCharity(wallet, name);
        charityId = ++_charityCount;
        _wallets[charityId] = wallet;
        _names[charityId] = name;
        _tallies[charityId].active = true;
        emit CharityAdded(charityId, wallet, name);
    }

    /**
     * @notice Changes a charity's wallet and name; its total and active flag stay.
     *
     * Requirements:
     * - the caller has CHARITY_MANAGER_ROLE;
     * - `charityId` exists ({GivingUnknownCharity});
     * - `wallet` is not the zero address and `name` is not empty ({GivingInvalidCharity}).
     *
     * Emits a {CharityUpdated} event.
     */
    function updateCharity(uint256 charityId, address wallet, bytes32 name) external onlyRole(CHARITY_MANAGER_ROLE) {
        _requireCharity(charityId);
        if (wallet == address(0) || name == bytes32(0)) revert GivingInvalidCharity(wallet, name);
        _wallets[charityId] = wallet;
        _names[charityId] = name;
        emit CharityUpdated(charityId, wallet, name, _tallies[charityId].active);
    }

    /**
     * @notice Opens (`active` true) or closes a charity to donations; its total stays.
     *
     * Requirements:
     * - the caller has CHARITY_MANAGER_ROLE;
     * - `charityId` exists ({GivingUnknownCharity}).
     *
     * Emits a {CharityUpdated} event.
     */
    function setCharityActive(uint256 charityId, bool active) external onlyRole(CHARITY_MANAGER_ROLE) {
        _requireCharity(charityId);
        _tallies[charityId].active = active;
        emit CharityUpdated(charityId, _wallets[charityId], _names[charityId], active);
    }

    // ---------------------------------------------------------------- giving

    /**
     * @notice Donates `amount` of the caller's points to charity `charityId`: they are burned and added to
     * the charity's running total. Works under every transfer policy; no allowance is needed.
     *
     * Requirements:
     * - `charityId` exists ({GivingUnknownCharity}) and is active ({GivingCharityInactive});
     * - this registry has REDEEMER_ROLE on the points token and the token is not paused;
     * - `amount` is not zero ({PointsZeroAmount}) and the caller holds at least `amount`
     *   ({ERC20InsufficientBalance}).
     *
     * Emits a {Donated} event (and the token's {Transfer} to the zero address).
     */
    function donate(uint256 charityId, uint256 amount) external {
        Tally memory tally = _tallies[charityId];
        if (!tally.active) {
            _requireCharity(charityId);
            revert GivingCharityInactive(charityId);
        }
        if (amount > type(uint248).max - tally.donated) revert GivingTotalTooLarge(charityId, amount);
        uint256 total;
        // Cannot overflow: `amount` is at most uint248's max minus the old total, checked just above.
        unchecked {
            total = tally.donated + amount;
        }
        _tallies[charityId] = Tally(uint248(total), true);
        emit Donated(msg.sender, charityId, amount, total);
        // The token is ours (immutable, set at deploy) and burns only the caller's points: no reentrancy path.
        points.redeemBurn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice How many charities were registered (ids run from 1 to this).
    function charityCount() external view returns (uint256) {
        return _charityCount;
    }

    /**
     * @notice Charity `charityId`'s wallet, name, active flag and points donated so far.
     *
     * Requirements:
     * - `charityId` exists ({GivingUnknownCharity}).
     */
    function charity(
        uint256 charityId
    ) external view returns (address wallet, bytes32 name, bool active, uint256 donated) {
        _requireCharity(charityId);
        Tally memory tally = _tallies[charityId];
        return (_wallets[charityId], _names[charityId], tally.active, tally.donated);
    }

    // ---------------------------------------------------------------- internal

    function _requireCharity(uint256 charityId) private view {
        if (charityId == 0 || charityId > _charityCount) revert GivingUnknownCharity(charityId);
    }
}
