// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/**
 * @title OZMerkleClaimBaseline
 * @notice Bench-only baseline of a Merkle airdrop with plain OpenZeppelin parts: `MerkleProof.verify`
 * of an openzeppelin/merkle-tree (npm) leaf `(address account, uint256 amount)`, a `mapping(address => bool)`
 * of claims, and ERC20 `_mint` (the token is the distributor).
 */
contract OZMerkleClaimBaseline is ERC20 {
    bytes32 public immutable root;
    mapping(address account => bool) public claimed;

    event Claimed(address indexed account, uint256 amount);

    error AlreadyClaimed(address account);
    error InvalidProof(address account);

    constructor(bytes32 root_) ERC20("Baseline Airdrop", "BA") {
        root = root_;
    }

    function claim(address account, uint256 amount, bytes32[] memory proof) external {
        if (claimed[account]) revert AlreadyClaimed(account);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
        if (!MerkleProof.verify(proof, root, leaf)) revert InvalidProof(account);
        claimed[account] = true;
        emit Claimed(account, amount);
        _mint(account, amount);
    }
}
