// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/**
 * @title OZExpiringBaseline
 * @notice Bench-only baseline for ExpiringPoints: the straightforward expiring token built from OpenZeppelin
 * parts. Every issue (and every piece a transfer moves) is a lot in its own storage slot (amount, expiry);
 * each holder has a FIFO queue of lots (head and tail in one slot); spending walks the queue from the head,
 * writes off expired lots and takes the oldest live ones first; a transfer appends the pieces it moved to the
 * recipient's queue with their expiry. OZ's ERC20 keeps the raw balance (expired lots included until written
 * off); `balanceOf` sums the live lots.
 * @dev `mintBatch` takes ExpiringPoints.issueBatch's packed words. Lots expire `validity` seconds after issue.
 */
contract OZExpiringBaseline is ERC20, ERC20Burnable, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @dev One slot per lot.
    struct Lot {
        uint192 amount;
        uint64 expiresAt;
    }

    uint256 public immutable validity;
    mapping(address account => mapping(uint256 index => Lot)) private _lots;
    /// @dev head (low 128 bits) and tail (high 128 bits) of each holder's queue: lots head .. tail - 1.
    mapping(address account => uint256) private _queues;

    error BaselineInsufficientLiveBalance(address account, uint256 needed);

    constructor(address admin, uint256 validitySeconds) ERC20("Expiring Baseline", "EB") {
        validity = validitySeconds;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` to `to`, expiring `validity` seconds from now.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @notice Mints to many: each word is `(uint160(to) << 96) | amount`.
    function mintBatch(uint256[] calldata packed) external onlyRole(MINTER_ROLE) {
        for (uint256 i = 0; i < packed.length; ++i) {
            _mint(address(uint160(packed[i] >> 96)), packed[i] & ((1 << 96) - 1));
        }
    }

    /// @notice The live (unexpired) balance of `account`.
    function balanceOf(address account) public view override returns (uint256 live) {
        uint256 queue = _queues[account];
        for (uint256 i = uint128(queue); i < queue >> 128; ++i) {
            Lot memory lot = _lots[account][i];
            if (lot.expiresAt > block.timestamp) live += lot.amount;
        }
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0)) {
            _push(to, value, uint64(block.timestamp + validity));
        } else {
            uint256 expired = _take(from, to, value);
            if (expired != 0) super._update(from, address(0), expired);
        }
        super._update(from, to, value);
    }

    function _push(address to, uint256 amount, uint64 expiresAt) private {
        if (to == address(0)) return;
        uint256 queue = _queues[to];
        uint256 tail = queue >> 128;
        _lots[to][tail] = Lot(uint192(amount), expiresAt);
        _queues[to] = ((tail + 1) << 128) | uint128(queue);
    }

    /// @dev Walks `from`'s queue: writes off expired lots, moves `value` from the oldest live ones to `to`.
    function _take(address from, address to, uint256 value) private returns (uint256 expired) {
        uint256 queue = _queues[from];
        uint256 head = uint128(queue);
        uint256 tail = queue >> 128;
        while (value != 0) {
            if (head == tail) revert BaselineInsufficientLiveBalance(from, value);
            Lot memory lot = _lots[from][head];
            if (lot.expiresAt <= block.timestamp) {
                expired += lot.amount;
                delete _lots[from][head++];
                continue;
            }
            uint256 moved = lot.amount < value ? lot.amount : value;
            value -= moved;
            if (moved == lot.amount) {
                delete _lots[from][head++];
            } else {
                _lots[from][head].amount = uint192(lot.amount - moved);
            }
            _push(to, moved, lot.expiresAt);
        }
        _queues[from] = (tail << 128) | head;
    }
}
