// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {ILoyaltyPoints} from "./interfaces/ILoyaltyPoints.sol";

/**
 * @title PartnerExchange
 * @notice One exchange agreement between two loyalty programs (a coalition): members convert points of
 * program A into points of program B at the agreed rate, in one transaction that burns in A, issues in B
 * and emits one {Exchanged} event. The terms (rate, minimum, per-member cap per period, fee) are fixed
 * when the agreement is deployed; each side opens, pauses or closes its own side, and a conversion needs
 * both sides open. A two-way coalition is two agreements.
 *
 * @dev Note (deliberate choices):
 * - Terms are immutable: a change of terms is a new agreement (close this one), so neither partner can
 *   change what the other agreed to. They cost no storage read on a conversion.
 * - The agreement needs REDEEMER_ROLE on A (to burn the member's points, under any transfer policy) and
 *   ISSUER_ROLE on B (to issue with reason "exchange"): each program's admin grants its role and opens
 *   its side; revoking the role stops conversions as surely as closing.
 * - `out = amountIn * rateTo / rateFrom` rounded down, then the fee (`feeBps` of it, rounded down) is not
 *   issued: B's liability shrinks by it and nobody receives it. A conversion whose `out` after the fee is
 *   zero is refused ({ExchangeRoundsToZero}), so no member burns points for nothing.
 * - The per-member cap counts points of A per period of `period` seconds since the unix epoch (e.g. 30
 *   days), per wallet. A cap of 0 means no cap and writes no per-member slot.
 * - Closing is final for both sides; pausing is not.
 */
contract PartnerExchange is AccessControl {
    /// @notice Which side of the agreement.
    enum Side {
        A,
        B
    }

    /// @notice keccak256("PARTNER_A_ROLE"): manages side A (the program whose points are burned).
    bytes32 public constant PARTNER_A_ROLE = keccak256("PARTNER_A_ROLE");
    /// @notice keccak256("PARTNER_B_ROLE"): manages side B (the program whose points are issued).
    bytes32 public constant PARTNER_B_ROLE = keccak256("PARTNER_B_ROLE");
    /// @notice The reason code of the points issued in B: "exchange", right-padded with zeros.
    bytes32 public constant EXCHANGE_REASON = bytes32("exchange");
    /// @notice The fee's denominator: basis points.
    uint256 public constant BPS = 10_000;

    /// @notice The program whose points members give.
    ILoyaltyPoints public immutable pointsA;
    /// @notice The program whose points members get.
    ILoyaltyPoints public immutable pointsB;
    /// @notice `rateFrom` points of A convert to `rateTo` points of B (e.g. 100 → 80).
    uint256 public immutable rateFrom;
    /// @notice See {rateFrom}.
    uint256 public immutable rateTo;
    /// @notice The fewest points of A one conversion takes.
    uint256 public immutable minimum;
    /// @notice The most points of A one wallet converts per period; 0 = no cap.
    uint256 public immutable cap;
    /// @notice The cap's period in seconds, counted from the unix epoch (0 when there is no cap).
    uint256 public immutable period;
    /// @notice The share of the converted amount not issued, in basis points.
    uint256 public immutable feeBps;

    /// @dev One slot: both sides' open flags and the closed flag, read by every conversion.
    struct State {
        bool openA;
        bool openB;
        bool closed;
    }

    State private _state;

    /// @dev A wallet's use of the cap: the period it was last counted in (high 64 bits) and the points of A
    /// converted in it (low 192 bits). Written only when there is a cap.
    mapping(address member => uint256) private _usage;

    /// @notice `member` converted `amountIn` points of A into `amountOut` points of B; `fee` points of B were
    /// not issued.
    event Exchanged(address indexed member, uint256 amountIn, uint256 amountOut, uint256 fee);

    /// @notice `side` was opened (`open` true) or paused by `by`.
    event SideOpenUpdated(Side indexed side, bool open, address by);

    /// @notice The agreement was closed for good by `side` (`by`).
    event ExchangeClosed(Side indexed side, address by);

    /**
     * @notice The agreement was closed for good; no conversion is possible.
     */
    error ExchangeIsClosed();

    /**
     * @notice A side is not open: both must be for a conversion.
     * @param openA Whether side A is open.
     * @param openB Whether side B is open.
     */
    error ExchangeNotOpen(bool openA, bool openB);

    /**
     * @notice A conversion of fewer points than the minimum.
     * @param amountIn The points of A given.
     * @param minimum The agreement's minimum.
     */
    error ExchangeBelowMinimum(uint256 amountIn, uint256 minimum);

    /**
     * @notice A conversion that would issue nothing after rounding and the fee.
     * @param amountIn The points of A given.
     * @param rateFrom The rate's A side.
     * @param rateTo The rate's B side.
     */
    error ExchangeRoundsToZero(uint256 amountIn, uint256 rateFrom, uint256 rateTo);

    /**
     * @notice A conversion past the wallet's cap for this period.
     * @param member The wallet.
     * @param amountIn The points of A asked to convert.
     * @param used The points of A it converted already this period.
     * @param cap The per-period cap.
     */
    error ExchangeCapExceeded(address member, uint256 amountIn, uint256 used, uint256 cap);

    /**
     * @notice Terms that cannot work: a zero rate side or one of 2**96 or more, a fee of 100% or more, a cap of
     * 2**192 or more, or a cap without a period.
     */
    error ExchangeInvalidTerms(uint256 rateFrom, uint256 rateTo, uint256 feeBps, uint256 cap, uint256 period);

    /**
     * @notice A zero address among the programs and partners, or the same program on both sides.
     */
    error ExchangeInvalidSetup(address pointsA, address pointsB, address partnerA, address partnerB);

    /**
     * @param pointsA_ Program A's points (burned).
     * @param pointsB_ Program B's points (issued).
     * @param partnerA Receives PARTNER_A_ROLE (program A's admin).
     * @param partnerB Receives PARTNER_B_ROLE (program B's admin).
     * @param terms `[rateFrom, rateTo, minimum, cap, period, feeBps]`; both sides start closed.
     */
    constructor(
        ILoyaltyPoints pointsA_,
        ILoyaltyPoints pointsB_,
        address partnerA,
        address partnerB,
        uint256[6] memory terms
    ) {
        if (
            address(pointsA_) == address(0) ||
            address(pointsB_) == address(0) ||
            pointsA_ == pointsB_ ||
            partnerA == address(0) ||
            partnerB == address(0)
        ) revert ExchangeInvalidSetup(address(pointsA_), address(pointsB_), partnerA, partnerB);
        // A rate side below 2**96 keeps `amountIn * rateTo` under 2**256 for any amount below 2**160.
        if (
            terms[0] == 0 ||
            terms[1] == 0 ||
            terms[0] >= 2 ** 96 ||
            terms[1] >= 2 ** 96 ||
            terms[5] >= BPS ||
            terms[3] >= 2 ** 192 ||
            (terms[3] != 0 && terms[4] == 0)
        ) revert ExchangeInvalidTerms(terms[0], terms[1], terms[5], terms[3], terms[4]);
        pointsA = pointsA_;
        pointsB = pointsB_;
        rateFrom = terms[0];
        rateTo = terms[1];
        minimum = terms[2];
        cap = terms[3];
        period = terms[4];
        feeBps = terms[5];
        // Each side manages its own role; there is no admin above both.
        _setRoleAdmin(PARTNER_A_ROLE, PARTNER_A_ROLE);
        _setRoleAdmin(PARTNER_B_ROLE, PARTNER_B_ROLE);
        _grantRole(PARTNER_A_ROLE, partnerA);
        _grantRole(PARTNER_B_ROLE, partnerB);
    }

    // ---------------------------------------------------------------- partners

    /**
     * @notice Opens (`open` true) or pauses `side` of the agreement.
     *
     * Requirements:
     * - the caller has that side's role (PARTNER_A_ROLE or PARTNER_B_ROLE);
     * - the agreement is not closed ({ExchangeIsClosed}).
     *
     * Emits a {SideOpenUpdated} event.
     */
    function setOpen(Side side, bool open) external onlyRole(_roleOf(side)) {
        State memory state = _state;
        if (state.closed) revert ExchangeIsClosed();
        if (side == Side.A) state.openA = open;
        else state.openB = open;
        _state = state;
        emit SideOpenUpdated(side, open, msg.sender);
    }

    /**
     * @notice Closes the agreement for good, from `side`. The partner should also revoke the role it granted
     * the agreement on its token (the Python client does).
     *
     * Requirements:
     * - the caller has that side's role;
     * - the agreement is not closed already ({ExchangeIsClosed}).
     *
     * Emits an {ExchangeClosed} event.
     */
    function close(Side side) external onlyRole(_roleOf(side)) {
        if (_state.closed) revert ExchangeIsClosed();
        _state = State(false, false, true);
        emit ExchangeClosed(side, msg.sender);
    }

    // ---------------------------------------------------------------- members

    /**
     * @notice Converts `amountIn` of the caller's points of A into points of B at the agreed rate, less the
     * fee: burned in A, issued in B, in this one transaction.
     *
     * Requirements:
     * - the agreement is not closed ({ExchangeIsClosed}) and both sides are open ({ExchangeNotOpen});
     * - `amountIn` is at least the minimum ({ExchangeBelowMinimum}) and converts to at least one point of B
     *   after the fee ({ExchangeRoundsToZero});
     * - the caller stays within the cap of this period, if any ({ExchangeCapExceeded});
     * - the caller holds `amountIn` points of A; neither token is paused; the agreement holds REDEEMER_ROLE on
     *   A and ISSUER_ROLE on B; B's supply cap is not exceeded (the tokens' own errors).
     *
     * Emits an {Exchanged} event (and the tokens' {Transfer} and {PointsIssued} events).
     * @return amountOut The points of B issued to the caller.
     */
    function convert(uint256 amountIn) external returns (uint256 amountOut) {
        State memory state = _state;
        if (state.closed) revert ExchangeIsClosed();
        if (!state.openA || !state.openB) revert ExchangeNotOpen(state.openA, state.openB);
        if (amountIn < minimum) revert ExchangeBelowMinimum(amountIn, minimum);
        uint256 fee;
        (amountOut, fee) = _quote(amountIn);
        if (amountOut == 0) revert ExchangeRoundsToZero(amountIn, rateFrom, rateTo);
        if (cap != 0) _count(msg.sender, amountIn);
        emit Exchanged(msg.sender, amountIn, amountOut, fee);
        // Both tokens are the programs' own (immutable, checked at deploy by the partners who granted the
        // roles): burn first, so a member without the points never gets B's.
        pointsA.redeemBurn(msg.sender, amountIn);
        pointsB.issue(msg.sender, amountOut, EXCHANGE_REASON);
    }

    // ---------------------------------------------------------------- views

    /**
     * @notice What converting `amountIn` points of A would issue in B now, and the fee kept back (terms only:
     * the minimum, the cap and the sides are not checked here).
     */
    function quote(uint256 amountIn) external view returns (uint256 amountOut, uint256 fee) {
        return _quote(amountIn);
    }

    /// @notice Whether side A and side B are open, and whether the agreement is closed.
    function state() external view returns (bool openA, bool openB, bool closed) {
        State memory s = _state;
        return (s.openA, s.openB, s.closed);
    }

    /**
     * @notice The points of A `member` may still convert in the current period (type(uint256).max without
     * a cap), and when the period ends (unix seconds; 0 without a cap).
     */
    function remaining(address member) external view returns (uint256 left, uint256 periodEnds) {
        if (cap == 0) return (type(uint256).max, 0);
        uint256 current = block.timestamp / period;
        uint256 usage = _usage[member];
        // slither-disable-next-line incorrect-equality (a stored period index, not a balance)
        uint256 used = (usage >> 192) == current ? uint192(usage) : 0;
        return (used >= cap ? 0 : cap - used, (current + 1) * period);
    }

    // ---------------------------------------------------------------- internals

    function _quote(uint256 amountIn) private view returns (uint256 amountOut, uint256 fee) {
        // Checked: `amountIn * rateTo` reverts rather than wraps for an absurd amount (rateTo < 2**96).
        uint256 gross = (amountIn * rateTo) / rateFrom;
        // The fee is a share of what would be issued (the rounded gross), on purpose: it rounds down too.
        // slither-disable-next-line divide-before-multiply
        fee = (gross * feeBps) / BPS;
        amountOut = gross - fee;
    }

    function _count(address member, uint256 amountIn) private {
        uint256 current = block.timestamp / period;
        uint256 usage = _usage[member];
        // slither-disable-next-line incorrect-equality (a stored period index, not a balance)
        uint256 used = (usage >> 192) == current ? uint192(usage) : 0;
        // `used <= cap` always holds, so the subtraction cannot underflow.
        if (amountIn > cap - used) revert ExchangeCapExceeded(member, amountIn, used, cap);
        // Fits: used + amountIn <= cap < 2**192 (checked at deploy); the period index is far below 2**64.
        _usage[member] = (current << 192) | (used + amountIn);
    }

    function _roleOf(Side side) private pure returns (bytes32) {
        return side == Side.A ? PARTNER_A_ROLE : PARTNER_B_ROLE;
    }
}
