// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title IERC5192
 * @notice ERC-5192 Minimal Soulbound NFTs (https://eips.ethereum.org/EIPS/eip-5192).
 * @dev The ERC-165 identifier of this interface is 0xb45a3c0e. OpenZeppelin Contracts 5.4 does not ship it.
 */
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked.
    /// @dev If a token is minted and the status is locked, this event should be emitted.
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status is changed to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice Returns the locking status of a soulbound token; reverts if `tokenId` does not exist.
    function locked(uint256 tokenId) external view returns (bool);
}
