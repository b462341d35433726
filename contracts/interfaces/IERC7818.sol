// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/**
 * @title IERC7818
 * @notice ERC-7818 Expirable ERC-20 (https://eips.ethereum.org/EIPS/eip-7818): tokens belong to an epoch
 * (a fixed number of seconds or blocks) and stay usable for {validityDuration} epochs.
 * @dev OpenZeppelin Contracts 5.4 does not ship it; the function set and their meaning follow the ERC.
 */
interface IERC7818 is IERC20 {
    /// @notice How an epoch is measured: in blocks or in seconds of block time.
    enum EPOCH_TYPE {
        BLOCKS_BASED,
        TIME_BASED
    }

    /**
     * @notice The points `account` holds from `epoch`; 0 once that epoch has expired.
     * @param epoch The epoch asked about.
     * @param account The holder.
     */
    function balanceOfAtEpoch(uint256 epoch, address account) external view returns (uint256);

    /// @notice The epoch the current block is in.
    function currentEpoch() external view returns (uint256);

    /// @notice The length of one epoch, in blocks or seconds (see {epochType}).
    function epochLength() external view returns (uint256);

    /// @notice Whether epochs are counted in blocks or in seconds.
    function epochType() external view returns (EPOCH_TYPE);

    /// @notice For how many epochs (the one they were issued in included) points stay usable.
    function validityDuration() external view returns (uint256);

    /// @notice Whether points of `epoch` have expired.
    function isEpochExpired(uint256 epoch) external view returns (bool);

    /**
     * @notice Moves `value` of the caller's points of `epoch` to `to`; they keep their epoch.
     * @dev Reverts if `epoch` has expired.
     */
    function transferAtEpoch(uint256 epoch, address to, uint256 value) external returns (bool);

    /**
     * @notice Moves `value` of `from`'s points of `epoch` to `to` using the caller's allowance.
     * @dev Reverts if `epoch` has expired.
     */
    function transferFromAtEpoch(uint256 epoch, address from, address to, uint256 value) external returns (bool);
}
