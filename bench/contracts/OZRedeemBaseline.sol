// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/**
 * @title OZRedeemBaseline
 * @notice Bench-only baseline of a perk redemption with plain OpenZeppelin parts: the member must hold
 * a card (ERC721 `balanceOf`), the price comes from a mapping, a per-member count is kept, and the points
 * are burned with ERC20Burnable `burnFrom`, which needs the member's allowance (one more transaction).
 */
contract OZRedeemBaseline {
    ERC20Burnable public immutable points;
    IERC721 public immutable card;
    mapping(uint256 perkId => uint256) public price;
    mapping(uint256 perkId => mapping(address member => uint256)) public redeemedBy;

    event Redeemed(uint256 indexed perkId, address indexed member, uint256 quantity, uint256 cost);

    error NotAMember(address member);

    constructor(ERC20Burnable points_, IERC721 card_) {
        points = points_;
        card = card_;
    }

    function setPrice(uint256 perkId, uint256 value) external {
        price[perkId] = value;
    }

    function redeem(uint256 perkId, uint256 quantity) external {
        if (card.balanceOf(msg.sender) == 0) revert NotAMember(msg.sender);
        uint256 cost = price[perkId] * quantity;
        redeemedBy[perkId][msg.sender] += quantity;
        emit Redeemed(perkId, msg.sender, quantity, cost);
        points.burnFrom(msg.sender, cost);
    }
}
