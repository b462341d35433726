"""Earn rules: what each kind of shop event is worth in points, read from a TOML file the brand edits.

A rules file (every section optional; an absent section earns nothing for that event type)::

    [purchase]
    per_unit = { EUR = 10, USD = 9 }   # points per whole currency unit, rounded down
    reason = "purchase"                # the on-chain reason code of these issuances

    [tiers]                            # multiplier on purchases per card tier (1 when absent)
    Silver = 1.25
    Gold = 1.5

    [signup]                           # once per member, ever
    points = 50
    [birthday]                         # at most once per member per calendar year
    points = 100
    [referral]                         # both sides, only after the referee's first purchase
    points = 200
    [review]
    points = 20
    [custom]                           # points given by the shop itself, up to max_points
    max_points = 1000

    [cap]                              # most points one member earns per period (all types)
    points = 5000
    period = "month"                   # day | week | month | year

    [perks.1]                          # what a wallet shows for perk 1 (optional)
    description = "A latte of any size"
    image = "https://example.com/latte.png"

A bad file is refused when the gateway starts, naming the file, the line and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import RulesFileError

EVENT_TYPES = ("purchase", "signup", "referral", "birthday", "review", "custom")
PERIODS = ("day", "week", "month", "year")
MAX_POINTS = 2**96 - 1
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Bonus:
    points: int
    reason: str


@dataclass(frozen=True)
class PerkInfo:
    description: str = ""
    image: str = ""


@dataclass(frozen=True)
class Rules:
    """The earn rules in force (the defaults earn nothing)."""

    per_unit: dict[str, Decimal] = field(default_factory=dict)
    purchase_reason: str = "purchase"
    tier_multipliers: dict[str, Decimal] = field(default_factory=dict)
    bonuses: dict[str, Bonus] = field(default_factory=dict)
    """signup, birthday, referral, review: points and reason code."""
    custom_max: int = 0
    custom_reason: str = "custom"
    cap_points: int | None = None
    cap_period: str = "month"
    perks: dict[int, PerkInfo] = field(default_factory=dict)
    source: str = "(defaults)"

    def multiplier(self, tier: str | None) -> Decimal:
        return self.tier_multipliers.get(tier or "", Decimal(1))

    def purchase_points(self, value: Decimal, currency: str, tier: str | None) -> int:
        rate = self.per_unit.get(currency)
        if rate is None:
            return 0
        return int(value * rate * self.multiplier(tier))


def load_rules(path: Path | None) -> Rules:
    """The rules in ``path`` (None: the defaults); a bad file raises :class:`RulesFileError`."""
    if path is None:
        return Rules()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesFileError(name, None, "(file)", f"cannot be read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        raise RulesFileError(name, line, "(syntax)", str(exc)) from None
    return _Parser(name, text).rules(data)


def _line_from_message(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


class _Parser:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.lines = text.splitlines()

    def fail(self, section: str, key: str | None, problem: str) -> RulesFileError:
        dotted = f"{section}.{key}" if key else section
        return RulesFileError(self.name, self.line_of(section, key), dotted, problem)

    def line_of(self, section: str, key: str | None) -> int | None:
        """The line of ``key`` in ``[section]`` (or of the section header), found in the text."""
        header = re.compile(r"\s*\[\s*" + re.escape(section).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
        start = next((i for i, ln in enumerate(self.lines) if header.match(ln)), None)
        if start is None:
            return None
        if key is None:
            return start + 1
        pattern = re.compile(r"\s*\"?" + re.escape(key) + r"\"?\s*=")
        for i in range(start + 1, len(self.lines)):
            if self.lines[i].lstrip().startswith("["):
                break
            if pattern.match(self.lines[i]) or re.search(
                r"[{,]\s*" + re.escape(key) + r"\s*=", self.lines[i]
            ):
                return i + 1
        return start + 1

    def table(
        self, data: dict[str, Any], section: str, keys: tuple[str, ...], where: str | None = None
    ) -> dict[str, Any]:
        value = data.get(section, {})
        section = where or section
        if not isinstance(value, dict):
            raise self.fail(section, None, "must be a table ([section])")
        for key in value:
            if key not in keys:
                raise self.fail(section, key, f"unknown field (known: {', '.join(keys)})")
        return value

    def points(self, section: str, key: str, value: Any, *, allow_zero: bool = True) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(section, key, f"must be a whole number of points, got {value!r}")
        if value < (0 if allow_zero else 1) or value > MAX_POINTS:
            raise self.fail(section, key, f"must be within {0 if allow_zero else 1}..2**96-1, got {value}")
        return value

    def number(self, section: str, key: str, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(section, key, f"must be a number, got {value!r}")
        if value < 0 or value > 1_000_000:
            raise self.fail(section, key, f"must be within 0..1000000, got {value}")
        return Decimal(str(value))

    def reason(self, section: str, value: Any) -> str:
        if not isinstance(value, str) or not 1 <= len(value.encode()) <= 32:
            raise self.fail(section, "reason", f"must be 1..32 bytes of text, got {value!r}")
        return value

    def rules(self, data: dict[str, Any]) -> Rules:
        known = ("purchase", "tiers", "signup", "birthday", "referral", "review", "custom", "cap", "perks")
        for section in data:
            if section not in known:
                raise self.fail(section, None, f"unknown section (known: {', '.join(known)})")
        purchase = self.table(data, "purchase", ("per_unit", "reason"))
        per_unit_raw = purchase.get("per_unit", {})
        if not isinstance(per_unit_raw, dict):
            raise self.fail("purchase", "per_unit", "must be a table of CURRENCY = points per unit")
        per_unit: dict[str, Decimal] = {}
        for currency, rate in per_unit_raw.items():
            if not _CURRENCY.fullmatch(currency):
                raise self.fail("purchase", currency, "a currency is a 3-letter ISO 4217 code like EUR")
            per_unit[currency] = self.number("purchase", currency, rate)
        tier_table = self.table(data, "tiers", tuple(data.get("tiers", {})))
        tiers = {t: self.number("tiers", t, m) for t, m in tier_table.items()}
        bonuses: dict[str, Bonus] = {}
        for kind in ("signup", "birthday", "referral", "review"):
            if kind in data:
                bonus = self.table(data, kind, ("points", "reason"))
                if "points" not in bonus:
                    raise self.fail(kind, None, "needs points = N")
                bonuses[kind] = Bonus(
                    self.points(kind, "points", bonus["points"]),
                    self.reason(kind, bonus.get("reason", kind)),
                )
        custom = self.table(data, "custom", ("max_points", "reason"))
        cap = self.table(data, "cap", ("points", "period"))
        period = cap.get("period", "month")
        if period not in PERIODS:
            raise self.fail("cap", "period", f"must be one of {', '.join(PERIODS)}, got {period!r}")
        perks: dict[int, PerkInfo] = {}
        perk_tables = data.get("perks", {})
        if not isinstance(perk_tables, dict):
            raise self.fail("perks", None, "must be tables [perks.ID]")
        for perk_id, info in perk_tables.items():
            where = f"perks.{perk_id}"
            if not perk_id.isdigit() or int(perk_id) < 1:
                raise self.fail(where, None, "a perk id is a whole number ≥ 1")
            info = self.table(perk_tables, perk_id, ("description", "image"), where)
            for key, value in info.items():
                if not isinstance(value, str) or len(value) > 2000:
                    raise self.fail(where, key, "must be text of at most 2000 characters")
            perks[int(perk_id)] = PerkInfo(info.get("description", ""), info.get("image", ""))
        return Rules(
            per_unit=per_unit,
            purchase_reason=self.reason("purchase", purchase.get("reason", "purchase")),
            tier_multipliers=tiers,
            bonuses=bonuses,
            custom_max=self.points("custom", "max_points", custom.get("max_points", 0)),
            custom_reason=self.reason("custom", custom.get("reason", "custom")),
            cap_points=(
                self.points("cap", "points", cap["points"], allow_zero=False) if "points" in cap else None
            ),
            cap_period=period,
            perks=perks,
            source=self.name,
        )
