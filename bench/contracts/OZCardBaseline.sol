// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/**
 * @title OZCardBaseline
 * @notice Bench-only baseline: plain OpenZeppelin ERC721 and AccessControl, minting with OZ `_mint`
 * (token id = the holder's address, as MembershipCard's first card). No tier, no expiry.
 * @dev `mintBatch` takes the same packed words as MembershipCard.enrollBatch (only the address is used).
 */
contract OZCardBaseline is ERC721, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin) ERC721("Baseline Card", "BC") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints the card `uint160(to)` to `to`.
    function mint(address to) external onlyRole(MINTER_ROLE) {
        _mint(to, uint160(to));
    }

    /// @notice Mints to many: the low 160 bits of each word are the holder.
    function mintBatch(uint256[] calldata packed) external onlyRole(MINTER_ROLE) {
        for (uint256 i = 0; i < packed.length; ++i) {
            address to = address(uint160(packed[i]));
            _mint(to, uint160(to));
        }
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
