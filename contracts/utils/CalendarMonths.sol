// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Calendar months for tier qualification periods (LoyaltyPoints): which month a timestamp falls in, and
// when a month starts, in the proleptic Gregorian calendar, UTC. Howard Hinnant's `civil_from_days` and
// `days_from_civil` (https://howardhinnant.github.io/date_algorithms.html), restricted to dates from 1970:
// a year of eras of 400 years (146,097 days) starting on 1 March, so the leap day ends a year.
// Free functions (no library, no artifact): they are inlined into the contract that uses them.

/// @dev Days from 0000-03-01 to 1970-01-01.
uint256 constant DAYS_TO_1970_FROM_MARCH_0 = 719_468;
/// @dev Months from January of year 0 to January 1970 (1970 * 12).
uint256 constant MONTHS_TO_1970 = 23_640;

/// @notice Months since January 1970 of unix time `timestamp` (0 for any moment of January 1970).
function monthIndexOf(uint256 timestamp) pure returns (uint256) {
    // Cannot overflow or underflow: each step is bounded by the one before (civil_from_days); the final
    // subtraction is positive for any timestamp from 1970 on (the months from year 0 exceed MONTHS_TO_1970).
    unchecked {
        uint256 z = timestamp / 1 days + DAYS_TO_1970_FROM_MARCH_0;
        uint256 era = z / 146_097;
        // slither-disable-next-line divide-before-multiply (era = the whole 400-year blocks: the remainder follows)
        uint256 dayOfEra = z - era * 146_097;
        uint256 yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        // slither-disable-next-line divide-before-multiply (whole years; the day of the year is the remainder)
        uint256 dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        uint256 monthFromMarch = (5 * dayOfYear + 2) / 153; // 0 = March … 11 = February
        // Months from March of year 0, then shifted to January (+2) and to 1970.
        // slither-disable-next-line divide-before-multiply (whole years and months, by construction)
        return (yearOfEra + era * 400) * 12 + monthFromMarch + 2 - MONTHS_TO_1970;
    }
}

/// @notice Unix time of the first second of month `monthIndex` (months since January 1970).
function monthStart(uint256 monthIndex) pure returns (uint256) {
    // Cannot overflow for any month index a uint40 period holds times a 12-month length.
    unchecked {
        uint256 year = 1970 + monthIndex / 12;
        uint256 month = (monthIndex % 12) + 1; // 1 = January
        if (month <= 2) year -= 1; // January and February belong to the March-based year before
        uint256 era = year / 400;
        // slither-disable-next-line divide-before-multiply (whole eras; the year of the era is the remainder)
        uint256 yearOfEra = year - era * 400;
        uint256 dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
        uint256 dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return (era * 146_097 + dayOfEra - DAYS_TO_1970_FROM_MARCH_0) * 1 days;
    }
}
