// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/**
 * @title OZPointsBaseline
 * @notice Bench-only baseline: plain OpenZeppelin ERC20 (+ ERC20Burnable for the redeem baseline's
 * `burnFrom`) and AccessControl, minting with OZ `_mint` one recipient at a time.
 * @dev `mintBatch` takes the same packed words as LoyaltyPoints.issueBatch, so the two differ only in
 * what they do per recipient, not in calldata.
 */
contract OZPointsBaseline is ERC20, ERC20Burnable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin) ERC20("Baseline Points", "BP") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Mints to many: each word is `(uint160(to) << 96) | amount`.
    function mintBatch(uint256[] calldata packed) external onlyRole(MINTER_ROLE) {
        for (uint256 i = 0; i < packed.length; ++i) {
            _mint(address(uint160(packed[i] >> 96)), packed[i] & ((1 << 96) - 1));
        }
    }
}
