"""Operator business hours, loaded from a YAML file (config/business_hours.yml).

The bot uses this to tell the user when a person will read the ticket
(「次の営業開始は11月24日(火) 9:00です」). All checks are done in the configured
timezone; naive datetimes are rejected because guessing their zone would
silently give wrong answers on a UTC server.

Closed days: Japan's public holidays come from the ``jpholiday`` library
(``public_holidays: jp``; it follows the 祝日法, substitute holidays and the
equinox days included, so no list has to be kept by hand), and the file adds
the company's own holidays (``holidays``) and closed periods (``closures``,
e.g. 年末年始).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jpholiday
import yaml

PUBLIC_HOLIDAY_CALENDARS = ("jp", "none")
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_KANJI = ("月", "火", "水", "木", "金", "土", "日")

# Far enough to step over any sane closure (a year-long one included).
_SEARCH_DAYS = 800


class HoursConfigError(ValueError):
    """The business hours file is missing or invalid."""


@dataclass(frozen=True)
class Interval:
    """Opening interval within a day, in minutes after midnight; end may be 1440."""

    start: int
    end: int

    def label(self) -> str:
        return f"{_hm(self.start)}〜{_hm(self.end)}"


@dataclass(frozen=True)
class Closure:
    name: str
    start: date
    end: date  # inclusive
    yearly: bool = False  # "MM-DD" in the file: every year (start/end keep year 2000)

    def covers(self, day: date) -> bool:
        if not self.yearly:
            return self.start <= day <= self.end
        md = (day.month, day.day)
        start, end = (self.start.month, self.start.day), (self.end.month, self.end.day)
        return start <= md <= end if start <= end else (md >= start or md <= end)  # 12-29…01-03


@dataclass(frozen=True)
class BusinessHours:
    tz: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    holidays: dict[date, str] = field(default_factory=dict)  # the company's own
    closures: tuple[Closure, ...] = ()
    public_holidays: str = "none"  # "jp": Japan's public holidays (jpholiday)

    # -- queries ----------------------------------------------------------

    def closed_reason(self, day: date) -> str | None:
        """Name of the holiday/closure on ``day`` (a date in ``tz``), else None."""
        if day in self.holidays:
            return self.holidays[day]
        if self.public_holidays == "jp":
            name = jpholiday.is_holiday_name(day)
            if name:  # 「憲法記念日 振替休日」 → 振替休日
                return str(name).split()[-1]
        for c in self.closures:
            if c.covers(day):
                return c.name
        return None

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if self.closed_reason(day) is not None:
            return ()
        return self.weekly[day.weekday()]

    def is_open(self, now: datetime) -> bool:
        local = self._local(now)
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(iv.start <= minute < iv.end for iv in self.intervals_on(local.date()))

    def next_opening(self, now: datetime) -> datetime:
        """Start of the next opening at or after ``now``, in ``tz``.
        If open right now, returns ``now`` (converted to ``tz``)."""
        local = self._local(now)
        if self.is_open(local):
            return local
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for iv in self.intervals_on(day):
                start = self._at(day, iv.start)
                if start >= local:
                    return start
        raise HoursConfigError(f"no opening within {_SEARCH_DAYS} days of {local.isoformat()}")

    # -- Japanese text ----------------------------------------------------

    def describe_next_opening(self, now: datetime) -> str:
        """e.g. 「11月24日(火) 9:00」; the year is added when it differs from now's."""
        local = self._local(now)
        nxt = self.next_opening(local)
        text = f"{nxt.month}月{nxt.day}日({DAY_KANJI[nxt.weekday()]}) {nxt.hour}:{nxt.minute:02d}"
        if nxt.year != local.year:
            text = f"{nxt.year}年{text}"
        return text

    def describe_hours(self) -> str:
        """e.g. 「平日 9:00〜18:00(土日祝・年末年始を除く)」, derived from the config."""
        groups: dict[tuple[Interval, ...], list[int]] = {}
        for wd, ivs in enumerate(self.weekly):
            if ivs:
                groups.setdefault(ivs, []).append(wd)
        parts = [
            f"{_days_label(days)} {'、'.join(iv.label() for iv in ivs)}"
            for ivs, days in groups.items()
        ]
        text = " / ".join(parts)

        excluded = "".join(DAY_KANJI[wd] for wd, ivs in enumerate(self.weekly) if not ivs)
        if self.holidays or self.public_holidays != "none":
            excluded += "祝"
        names = [excluded] if excluded else []
        for c in self.closures:
            if c.name not in names:
                names.append(c.name)
        if names:
            text += f"({'・'.join(names)}を除く)"
        return text

    # -- helpers ----------------------------------------------------------

    def _local(self, now: datetime) -> datetime:
        if not isinstance(now, datetime):
            raise TypeError(f"expected datetime, got {type(now).__name__}")
        if now.tzinfo is None or now.tzinfo.utcoffset(now) is None:
            raise ValueError("naive datetime: pass a timezone-aware datetime")
        return now.astimezone(self.tz)

    def _at(self, day: date, minute: int) -> datetime:
        if minute >= 24 * 60:  # never a start, but keep it total
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.tz)


def _hm(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"


def _days_label(days: list[int]) -> str:
    if days == [0, 1, 2, 3, 4]:
        return "平日"
    if days == list(range(7)):
        return "毎日"
    if len(days) == 1:
        return f"{DAY_KANJI[days[0]]}曜"
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_KANJI[days[0]]}〜{DAY_KANJI[days[-1]]}"
    return "・".join(DAY_KANJI[d] for d in days)


# --------------------------------------------------------------------------
# Loading and validation


def load_hours(path: str | Path) -> BusinessHours:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HoursConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HoursConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise HoursConfigError(f"{path}: invalid YAML: {exc}") from None
    except ValueError as exc:  # YAML's own date parsing, e.g. 2026-13-01
        raise HoursConfigError(f"{path}: bad date or value: {exc}") from None
    try:
        return parse_hours(raw)
    except HoursConfigError as exc:
        raise HoursConfigError(f"{path}: {exc}") from None


def parse_hours(raw: Any) -> BusinessHours:
    """Build BusinessHours from the parsed YAML mapping (validates everything)."""
    if not isinstance(raw, dict):
        raise HoursConfigError("top level must be a mapping")
    unknown = set(raw) - {"timezone", "weekly", "public_holidays", "holidays", "closures"}
    if unknown:
        raise HoursConfigError(f"unknown keys: {sorted(map(str, unknown))}")

    tz_name = raw.get("timezone")
    if not isinstance(tz_name, str) or not tz_name:
        raise HoursConfigError("'timezone' is required (e.g. Asia/Tokyo)")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursConfigError(f"unknown timezone {tz_name!r}") from None

    weekly_raw = raw.get("weekly")
    if not isinstance(weekly_raw, dict):
        raise HoursConfigError("'weekly' must map mon..sun to lists of 'HH:MM-HH:MM'")
    bad_days = [k for k in weekly_raw if k not in DAY_KEYS]
    if bad_days:
        raise HoursConfigError(f"unknown weekday keys {bad_days}; use {list(DAY_KEYS)}")
    weekly = tuple(_parse_day(k, weekly_raw.get(k)) for k in DAY_KEYS)  # missing = closed
    if not any(weekly):
        raise HoursConfigError("'weekly' has no opening hours at all")

    public = raw.get("public_holidays", "none")
    public = "none" if public is None or public is False else str(public).strip().lower()
    if public not in PUBLIC_HOLIDAY_CALENDARS:
        raise HoursConfigError(f"'public_holidays' must be one of {list(PUBLIC_HOLIDAY_CALENDARS)}")

    holidays: dict[date, str] = {}
    hol_raw = raw.get("holidays") or {}
    if isinstance(hol_raw, list):  # a plain list of dates is fine too
        hol_raw = dict.fromkeys(hol_raw, "休日")
    if not isinstance(hol_raw, dict):
        raise HoursConfigError("'holidays' must map dates to names")
    for k, v in hol_raw.items():
        holidays[_parse_date(k, "holidays")] = str(v) if v is not None else "休日"

    closures = []
    clo_raw = raw.get("closures") or []
    if not isinstance(clo_raw, list):
        raise HoursConfigError("'closures' must be a list of {name, start, end}")
    for item in clo_raw:
        if not isinstance(item, dict) or not {"start", "end"} <= set(item):
            raise HoursConfigError(f"closure needs 'start' and 'end': {item!r}")
        yearly = _is_month_day(item["start"]) or _is_month_day(item["end"])
        if yearly:  # "12-29" … "01-03": every year
            start = _parse_month_day(item["start"])
            end = _parse_month_day(item["end"])
        else:
            start = _parse_date(item["start"], "closures")
            end = _parse_date(item["end"], "closures")
            if end < start:
                raise HoursConfigError(f"closure ends before it starts: {item!r}")
        closures.append(Closure(str(item.get("name") or "休業"), start, end, yearly))

    return BusinessHours(
        tz=tz, weekly=weekly, holidays=holidays, closures=tuple(closures), public_holidays=public
    )


def _parse_day(key: str, value: Any) -> tuple[Interval, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise HoursConfigError(f"weekly.{key} must be a list of 'HH:MM-HH:MM'")
    intervals = sorted((_parse_interval(key, v) for v in value), key=lambda iv: iv.start)
    for a, b in itertools.pairwise(intervals):
        if b.start < a.end:
            raise HoursConfigError(f"weekly.{key}: overlapping ranges {a.label()} and {b.label()}")
    return tuple(intervals)


def _parse_interval(key: str, value: Any) -> Interval:
    if not isinstance(value, str):
        raise HoursConfigError(f"weekly.{key}: {value!r} is not a 'HH:MM-HH:MM' string")
    text = value.replace("〜", "-").replace("~", "-").replace("–", "-").replace(" ", "")
    parts = text.split("-")
    if len(parts) != 2:
        raise HoursConfigError(f"weekly.{key}: {value!r} is not 'HH:MM-HH:MM'")
    start, end = (_parse_minute(key, p, value) for p in parts)
    if start >= end:
        raise HoursConfigError(f"weekly.{key}: {value!r} ends before it starts")
    if start >= 24 * 60:
        raise HoursConfigError(f"weekly.{key}: {value!r} starts at 24:00")
    return Interval(start, end)


def _parse_minute(key: str, text: str, whole: str) -> int:
    try:
        h, m = text.split(":")
        hour, minute = int(h), int(m)
    except ValueError:
        raise HoursConfigError(f"weekly.{key}: bad time {text!r} in {whole!r}") from None
    if not (0 <= minute < 60 and (0 <= hour < 24 or (hour == 24 and minute == 0))):
        raise HoursConfigError(f"weekly.{key}: bad time {text!r} in {whole!r}")
    return hour * 60 + minute


def _is_month_day(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) <= 5 and value.count("-") == 1


def _parse_month_day(value: Any) -> date:
    try:
        month, day = (int(p) for p in str(value).strip().split("-"))
        return date(2000, month, day)  # a leap year: 02-29 is allowed
    except ValueError:
        raise HoursConfigError(
            f"closures: bad date {value!r} (use YYYY-MM-DD, or MM-DD for every year)"
        ) from None


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HoursConfigError(f"{where}: bad date {value!r} (use YYYY-MM-DD)") from None
