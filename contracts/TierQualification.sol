// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {monthIndexOf, monthStart} from "./utils/CalendarMonths.sol";

/**
 * @title TierQualification
 * @notice The arithmetic of tiers that follow activity, for {LoyaltyPoints}: how a holder's packed word
 * counts qualifying points, rolls over at a period boundary and reaches tiers. No storage of its own.
 *
 * @dev A holder's word (the points token's balance slot; the balance at the bottom, so a program without
 * tiers sees a plain balance):
 *
 *   bits 0-119    balance (every balance is at most the total supply, kept below 2**120, so `word + amount`
 *                 and `word - amount` on a balance never carry into or borrow from the fields above)
 *   bits 120-211  qualifying points counted this period, saturating at 2**92 - 1 (beyond the largest
 *                 threshold, 2**32 - 1 whole points, even at 18 decimals)
 *   bits 212-251  when this period ends (unix seconds; 0: no period yet). Keeping the end, not the start or
 *                 an index, makes "is the period still running?" one comparison on every issue; the calendar
 *                 arithmetic runs only when a period ends (once per member and period).
 *   bits 252-255  the status tier, 0-8
 *
 * The schedule and the thresholds (8 x uint32 whole points, threshold `i` at bits 32i..32i+31 opens tier
 * `i + 1`, 0 ends the list) are passed in by the token, from slots it reads anyway. The schedule is
 *
 *   bits 0-7 mode | 8-39 length | 40-79, 80-119 the start and end of the calendar period running now
 *
 * The calendar period is a cache ({_withCalendarNow}): the token keeps it in the total supply's word, which
 * every issue writes anyway, so the calendar arithmetic (~850 gas) runs once per period for the whole
 * program, and a member's roll-over is a copy of two numbers.
 */
abstract contract TierQualification {
    /// @dev Mode: calendar periods of 1, 2, 3, 4, 6 or 12 months aligned to January (months, quarters,
    /// calendar years …), the same for every member.
    uint8 internal constant _CALENDAR = 1;
    /// @dev Mode: rolling periods of `length` seconds, each member's own, from its first qualifying points:
    /// [s, s + L), [s + L, s + 2L) …
    uint8 internal constant _ROLLING = 2;
    /// @dev At most this many thresholds (tiers 1-8 above tier 0) and qualifying reasons.
    uint256 internal constant _MAX_THRESHOLDS = 8;
    uint256 internal constant _MAX_REASONS = 8;

    uint256 internal constant _BALANCE_MASK = (1 << 120) - 1;
    uint256 internal constant _QUALIFYING_SHIFT = 120;
    uint256 internal constant _QUALIFYING_MAX = (1 << 92) - 1;
    uint256 internal constant _END_SHIFT = 212;
    uint256 internal constant _END_MASK = (1 << 40) - 1;
    uint256 internal constant _STATUS_SHIFT = 252;
    /// @dev The fields above the balance that say a holder has something a review could lower: the qualifying
    /// points and the status (the end alone decides nothing).
    uint256 internal constant _DECIDING = (_QUALIFYING_MAX << _QUALIFYING_SHIFT) | (uint256(0xf) << _STATUS_SHIFT);
    uint256 internal constant _THRESHOLD_MASK = type(uint32).max;
    uint256 internal constant _LENGTH_SHIFT = 8;
    uint256 internal constant _CALENDAR_START_SHIFT = 40;
    uint256 internal constant _CALENDAR_END_SHIFT = 80;
    /// @dev A schedule's mode and length, without the calendar cache.
    uint256 internal constant _SCHEDULE_RULE_MASK = (1 << 40) - 1;

    /// @dev One whole point in base units (10**decimals): thresholds are whole points.
    uint256 internal immutable _tierUnit;

    /**
     * @dev Thresholds must be 1 to 8, non-zero and strictly increasing.
     * @param index The position of the first bad threshold (the count when there are none or too many).
     * @param threshold The threshold there (0 when there is none).
     */
    error PointsTierThresholdInvalid(uint256 index, uint32 threshold);

    /**
     * @dev A qualification period that is not one: calendar (1) lengths are 1, 2, 3, 4, 6 or 12 months,
     * rolling (2) lengths at least one second.
     * @param mode The mode given.
     * @param length The length given.
     */
    error PointsTierPeriodInvalid(uint8 mode, uint32 length);

    constructor(uint8 decimals_) {
        _tierUnit = 10 ** decimals_;
    }

    /**
     * @dev `word` after `amount` qualifying points: rolled over first if its period ended, the points
     * counted, the status raised to the highest threshold reached.
     */
    function _counted(
        uint256 word,
        uint256 amount,
        uint256 schedule,
        uint256 thresholds
    ) internal view returns (uint256) {
        // While the member's period runs (the common case) its word is current: one comparison.
        // slither-disable-next-line timestamp (periods are days or months long: seconds of drift do not matter)
        if (block.timestamp >= (word >> _END_SHIFT) & _END_MASK) {
            if (word >> _QUALIFYING_SHIFT == 0) {
                // A holder's first qualifying points (nothing above the balance yet): its first period starts,
                // with nothing to carry over (a shortcut of {_rollOver}, for the most frequent roll-over).
                uint256 end = uint8(schedule) == _CALENDAR
                    ? (schedule >> _CALENDAR_END_SHIFT) & _END_MASK
                    : block.timestamp + uint32(schedule >> _LENGTH_SHIFT);
                word |= end << _END_SHIFT;
            } else {
                word = _rollOver(word, schedule, thresholds);
            }
        }
        // Cannot overflow: `amount` keeps the balance below 2**120 (the token checks the supply), and the
        // qualifying points are below 2**92 before the addition, so no sum nears 2**256.
        unchecked {
            uint256 status = word >> _STATUS_SHIFT;
            uint256 qualifying = ((word >> _QUALIFYING_SHIFT) & _QUALIFYING_MAX) + amount;
            // Only the next threshold says whether one was crossed (they increase): the full walk runs only
            // on a crossing. A shift by 256 (status 8) reads 0: no next tier.
            uint256 next = (thresholds >> (status << 5)) & _THRESHOLD_MASK;
            // slither-disable-next-line incorrect-equality (a threshold from storage, not a balance)
            if (qualifying <= _QUALIFYING_MAX && (next == 0 || qualifying < next * _tierUnit)) {
                // The common case, no threshold reached and no saturation: the balance and the qualifying
                // points both grow by `amount`, so one addition updates both (neither field carries).
                return word + amount + (amount << _QUALIFYING_SHIFT);
            }
            if (qualifying > _QUALIFYING_MAX) qualifying = _QUALIFYING_MAX;
            if (next != 0 && qualifying >= next * _tierUnit) status = _tierFor(qualifying, thresholds);
            return
                ((word & (_BALANCE_MASK | (_END_MASK << _END_SHIFT))) + amount) |
                (qualifying << _QUALIFYING_SHIFT) |
                (status << _STATUS_SHIFT);
        }
    }

    /// @dev `word` as of this block: itself while its period runs, else {_rollOver}.
    function _current(uint256 word, uint256 schedule, uint256 thresholds) internal view returns (uint256) {
        // slither-disable-next-line timestamp (see {_counted})
        if (block.timestamp < (word >> _END_SHIFT) & _END_MASK) return word;
        return _rollOver(word, schedule, thresholds);
    }

    /**
     * @dev The word of the period running now, for a word whose period ended: no points counted yet, the
     * status the ended period earned if it was the one just before now (0 otherwise: a period passed with
     * nothing earned), the balance kept.
     */
    function _rollOver(uint256 word, uint256 schedule, uint256 thresholds) internal view returns (uint256) {
        uint256 end = (word >> _END_SHIFT) & _END_MASK;
        uint256 length = uint32(schedule >> _LENGTH_SHIFT);
        uint256 newEnd;
        bool previous = false;
        if (uint8(schedule) == _CALENDAR) {
            // The running period from the cache (`schedule` is current: see {_withCalendarNow}). Periods are
            // contiguous: the ended one was just before iff it ended when this one started.
            newEnd = (schedule >> _CALENDAR_END_SHIFT) & _END_MASK;
            previous = end != 0 && end == (schedule >> _CALENDAR_START_SHIFT) & _END_MASK;
        } else if (end == 0) {
            newEnd = block.timestamp + length; // the first period starts with the first qualifying points
        } else {
            // Whole periods since the ended one, so a member's periods stay aligned to its first start.
            // Cannot overflow: timestamps and lengths are far below 2**64; `block.timestamp >= end` here.
            unchecked {
                uint256 skipped = (block.timestamp - end) / length;
                // slither-disable-next-line divide-before-multiply (rounding down to a period boundary is the point)
                newEnd = end + (skipped + 1) * length;
                // slither-disable-next-line incorrect-equality (whole periods elapsed: 0 is the one just before)
                previous = skipped == 0;
            }
        }
        uint256 status = previous ? _tierFor((word >> _QUALIFYING_SHIFT) & _QUALIFYING_MAX, thresholds) : 0;
        return (word & _BALANCE_MASK) | (newEnd << _END_SHIFT) | (status << _STATUS_SHIFT);
    }

    /**
     * @dev `schedule` with its calendar cache holding the period running now (unchanged for a rolling
     * schedule or while the cached period runs): what {_rollOver} reads.
     */
    function _withCalendarNow(uint256 schedule) internal view returns (uint256) {
        // slither-disable-next-line timestamp (see {_counted})
        if (uint8(schedule) != _CALENDAR || block.timestamp < (schedule >> _CALENDAR_END_SHIFT) & _END_MASK) {
            return schedule;
        }
        uint256 length = uint32(schedule >> _LENGTH_SHIFT);
        uint256 current = monthIndexOf(block.timestamp) / length;
        // slither-disable-next-line divide-before-multiply (the period's first month: rounding down is the point)
        uint256 start = monthStart(current * length);
        uint256 end = monthStart((current + 1) * length);
        return (schedule & _SCHEDULE_RULE_MASK) | (start << _CALENDAR_START_SHIFT) | (end << _CALENDAR_END_SHIFT);
    }

    /// @dev The highest tier whose threshold `qualifying` reaches (0: none).
    function _tierFor(uint256 qualifying, uint256 thresholds) internal view returns (uint256 tier) {
        while (tier < _MAX_THRESHOLDS) {
            uint256 threshold = (thresholds >> (32 * tier)) & _THRESHOLD_MASK;
            if (threshold == 0 || qualifying < threshold * _tierUnit) break;
            ++tier;
        }
    }

    /// @dev The next tier above `tier` and the points still needed for it from `qualifying` (`tier` and 0 at
    /// the top, or when a lowered threshold is already passed: the next qualifying issue upgrades).
    function _nextTier(
        uint256 qualifying,
        uint256 tier,
        uint256 thresholds
    ) internal view returns (uint256 nextTier, uint256 needed) {
        uint256 next = (thresholds >> (32 * tier)) & _THRESHOLD_MASK;
        if (next == 0) return (tier, 0);
        uint256 target = next * _tierUnit;
        return (tier + 1, target > qualifying ? target - qualifying : 0);
    }

    /// @dev `thresholds` packed 32 bits each, after checking they are 1 to 8, non-zero and increasing.
    function _packThresholds(uint32[] calldata thresholds) internal pure returns (uint256 packed) {
        uint256 count = thresholds.length;
        if (count == 0 || count > _MAX_THRESHOLDS) revert PointsTierThresholdInvalid(count, 0);
        uint256 previous = 0;
        for (uint256 i; i < count; ++i) {
            uint256 threshold = thresholds[i];
            if (threshold <= previous) revert PointsTierThresholdInvalid(i, uint32(threshold));
            packed |= threshold << (32 * i);
            previous = threshold;
        }
    }

    /// @dev The packed thresholds as a list.
    function _unpackThresholds(uint256 packed) internal pure returns (uint32[] memory thresholds) {
        uint256 count = 0;
        while (count < _MAX_THRESHOLDS && (packed >> (32 * count)) & _THRESHOLD_MASK != 0) ++count;
        thresholds = new uint32[](count);
        for (uint256 i; i < count; ++i) thresholds[i] = uint32(packed >> (32 * i));
    }

    /// @dev The schedule word for `mode` and `length`, after checking they make a period.
    function _schedule(uint8 mode, uint32 length) internal pure returns (uint256) {
        bool calendar = mode == _CALENDAR;
        if ((!calendar && mode != _ROLLING) || length == 0 || (calendar && (length > 12 || 12 % length != 0))) {
            revert PointsTierPeriodInvalid(mode, length);
        }
        return (uint256(length) << _LENGTH_SHIFT) | mode;
    }
}
