"""Business hours from config/business_hours.yml and from temporary files."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.handoff.hours import BusinessHours, HoursConfigError, load_hours

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "config" / "business_hours.yml"
TOKYO = ZoneInfo("Asia/Tokyo")


def jst(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TOKYO)


@pytest.fixture(scope="module")
def hours() -> BusinessHours:
    return load_hours(CONFIG)


@pytest.mark.parametrize(
    "now, is_open",
    [
        (jst(2026, 11, 24, 9, 0), True),  # Tue, opening minute
        (jst(2026, 11, 24, 8, 59, 59), False),
        (jst(2026, 11, 24, 17, 59, 59), True),
        (jst(2026, 11, 24, 18, 0), False),  # closing time is exclusive
        (jst(2026, 11, 28, 11, 0), False),  # Saturday
        (jst(2026, 11, 29, 11, 0), False),  # Sunday
        (jst(2026, 11, 23, 11, 0), False),  # 勤労感謝の日 (Mon)
        (jst(2026, 9, 22, 11, 0), False),  # 国民の休日
        (jst(2026, 5, 6, 11, 0), False),  # 振替休日
        (jst(2027, 3, 22, 11, 0), False),  # 振替休日 (春分の日 on Sunday)
        (jst(2026, 12, 28, 17, 0), True),  # last business day of the year
        (jst(2026, 12, 29, 11, 0), False),  # 年末年始
        (jst(2026, 12, 31, 11, 0), False),
        (jst(2027, 1, 4, 9, 0), True),  # first business day
        (jst(2026, 1, 2, 11, 0), False),  # 年末年始 2025-26
        (datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc), True),  # 9:30 JST
        (datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc), False),  # 18:30 JST
    ],
)
def test_is_open(hours, now, is_open):
    assert hours.is_open(now) is is_open


@pytest.mark.parametrize(
    "now, expected, text",
    [
        (
            jst(2026, 11, 20, 18, 30),
            jst(2026, 11, 24, 9, 0),
            "11月24日(火) 9:00",
        ),  # Fri night + holiday Mon
        (jst(2026, 11, 23, 10, 0), jst(2026, 11, 24, 9, 0), "11月24日(火) 9:00"),
        (jst(2026, 11, 24, 7, 0), jst(2026, 11, 24, 9, 0), "11月24日(火) 9:00"),
        (jst(2026, 11, 24, 10, 15), jst(2026, 11, 24, 10, 15), "11月24日(火) 10:15"),  # open now
        (jst(2026, 12, 28, 18, 0), jst(2027, 1, 4, 9, 0), "2027年1月4日(月) 9:00"),
        (jst(2026, 9, 19, 12, 0), jst(2026, 9, 24, 9, 0), "9月24日(木) 9:00"),  # silver week
        (jst(2026, 5, 1, 19, 0), jst(2026, 5, 7, 9, 0), "5月7日(木) 9:00"),  # golden week
        (
            datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc),
            jst(2026, 11, 30, 9, 0),
            "11月30日(月) 9:00",
        ),
    ],
)
def test_next_opening(hours, now, expected, text):
    nxt = hours.next_opening(now)
    assert nxt == expected
    assert nxt.tzinfo is not None and nxt.utcoffset() == timedelta(hours=9)
    assert hours.describe_next_opening(now) == text


def test_describe_hours_default(hours):
    assert hours.describe_hours() == "平日 9:00〜18:00(土日祝・年末年始を除く)"


@pytest.mark.parametrize("method", ["is_open", "next_opening", "describe_next_opening"])
def test_naive_datetime_rejected(hours, method):
    with pytest.raises(ValueError, match="naive"):
        getattr(hours, method)(datetime(2026, 11, 24, 10, 0))


# Public holidays come from jpholiday (no hand-kept list); the file adds 年末年始
# every year and company holidays. (date, closed reason or None = an ordinary day)
CLOSED_DAYS = [
    (date(2026, 1, 1), "元日"),  # inside 年末年始 too: the public holiday's name wins
    (date(2026, 1, 12), "成人の日"),
    (date(2026, 2, 11), "建国記念の日"),
    (date(2026, 2, 23), "天皇誕生日"),
    (date(2026, 3, 20), "春分の日"),
    (date(2026, 4, 29), "昭和の日"),
    (date(2026, 5, 6), "振替休日"),
    (date(2026, 7, 20), "海の日"),
    (date(2026, 8, 11), "山の日"),
    (date(2026, 9, 21), "敬老の日"),
    (date(2026, 9, 22), "国民の休日"),
    (date(2026, 9, 23), "秋分の日"),
    (date(2026, 10, 12), "スポーツの日"),
    (date(2026, 11, 3), "文化の日"),
    (date(2026, 11, 23), "勤労感謝の日"),
    (date(2027, 3, 21), "春分の日"),
    (date(2027, 3, 22), "振替休日"),
    (date(2027, 7, 19), "海の日"),
    (date(2028, 3, 20), "春分の日"),  # past the old list's end (2027)
    (date(2029, 9, 24), "振替休日"),
    (date(2030, 5, 6), "振替休日"),
    (date(2026, 12, 29), "年末年始"),
    (date(2026, 12, 31), "年末年始"),
    (date(2027, 1, 2), "年末年始"),
    (date(2027, 1, 3), "年末年始"),
    (date(2031, 12, 30), "年末年始"),  # every year, no list to extend
    (date(2026, 11, 24), None),
    (date(2026, 12, 28), None),
    (date(2027, 1, 4), None),
    (date(2026, 5, 7), None),
    (date(2028, 3, 21), None),
    (date(2030, 12, 5), None),
]


@pytest.mark.parametrize("day,reason", CLOSED_DAYS)
def test_public_holidays_and_closures(hours, day, reason):
    assert hours.closed_reason(day) == reason
    assert (hours.intervals_on(day) == ()) == (reason is not None or day.weekday() >= 5)


def test_company_holidays_and_no_public_calendar(tmp_path):
    h = load_hours(
        write(
            tmp_path,
            """
timezone: Asia/Tokyo
weekly: {mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"]}
public_holidays: jp
holidays: {2026-10-01: 創立記念日}
closures: [{name: 夏季休業, start: 2026-08-12, end: 2026-08-14}]
""",
        )
    )
    assert h.closed_reason(date(2026, 10, 1)) == "創立記念日"
    assert h.closed_reason(date(2026, 8, 13)) == "夏季休業"
    assert h.closed_reason(date(2026, 11, 23)) == "勤労感謝の日"
    plain = load_hours(write(tmp_path, "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\n"))
    assert plain.closed_reason(date(2026, 11, 23)) is None  # no calendar unless asked for
    assert plain.is_open(jst(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    "text",
    [
        "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\npublic_holidays: us\n",
        "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\n"
        "closures: [{start: '13-01', end: '01-03'}]\n",
    ],
)
def test_bad_holiday_settings(tmp_path, text):
    with pytest.raises(HoursConfigError):
        load_hours(write(tmp_path, text))


def write(tmp_path, text: str) -> Path:
    p = tmp_path / "hours.yml"
    p.write_text(text, encoding="utf-8")
    return p


def test_saturday_and_lunch_break(tmp_path):
    h = load_hours(
        write(
            tmp_path,
            """
timezone: Asia/Tokyo
weekly:
  mon: ["09:00-12:00", "13:00-18:00"]
  tue: ["09:00-12:00", "13:00-18:00"]
  wed: ["09:00-12:00", "13:00-18:00"]
  thu: ["09:00-12:00", "13:00-18:00"]
  fri: ["09:00-12:00", "13:00-18:00"]
  sat: ["10:00-17:00"]
holidays: [2026-11-23]
""",
        )
    )
    assert h.describe_hours() == "平日 9:00〜12:00、13:00〜18:00 / 土曜 10:00〜17:00(日祝を除く)"
    assert h.is_open(jst(2026, 11, 28, 10, 0))  # Saturday
    assert not h.is_open(jst(2026, 11, 24, 12, 30))  # lunch
    assert h.next_opening(jst(2026, 11, 24, 12, 30)) == jst(2026, 11, 24, 13, 0)
    assert h.next_opening(jst(2026, 11, 28, 17, 0)) == jst(2026, 11, 30, 9, 0)
    assert h.holidays[date(2026, 11, 23)] == "休日"


def test_other_timezone_and_24h(tmp_path):
    h = load_hours(
        write(
            tmp_path,
            """
timezone: Europe/Berlin
weekly: {mon: ["00:00-24:00"], wed: ["08:00-16:00"], fri: ["08:00-16:00"]}
""",
        )
    )
    assert h.describe_hours() == "月曜 0:00〜24:00 / 水・金 8:00〜16:00(火木土日を除く)"
    assert h.is_open(datetime(2026, 11, 23, 22, 59, tzinfo=timezone.utc))  # Mon 23:59 Berlin
    assert h.next_opening(datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)) == datetime(
        2026, 11, 25, 8, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("timezone: [", "invalid YAML"),
        ("- a\n- b\n", "mapping"),
        ("weekly: {mon: ['09:00-18:00']}\n", "timezone"),
        ("timezone: Mars/Olympus\nweekly: {mon: ['09:00-18:00']}\n", "unknown timezone"),
        ("timezone: Asia/Tokyo\n", "weekly"),
        ("timezone: Asia/Tokyo\nweekly: {monday: ['09:00-18:00']}\n", "unknown weekday"),
        ("timezone: Asia/Tokyo\nweekly: {mon: ['9時-18時']}\n", "bad time"),
        ("timezone: Asia/Tokyo\nweekly: {mon: ['18:00-09:00']}\n", "ends before"),
        ("timezone: Asia/Tokyo\nweekly: {mon: ['09:00-25:00']}\n", "bad time"),
        ("timezone: Asia/Tokyo\nweekly: {mon: ['09:00-12:00', '11:00-13:00']}\n", "overlapping"),
        ("timezone: Asia/Tokyo\nweekly: {mon: [], sun: []}\n", "no opening"),
        (
            "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\nholidays: {2026-13-01: x}\n",
            "bad date",
        ),
        (
            "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\n"
            "closures: [{start: 2026-12-31, end: 2026-12-29}]\n",
            "ends before",
        ),
        (
            "timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\n"
            "closures: [{start: 2026-12-31}]\n",
            "'end'",
        ),
        ("timezone: Asia/Tokyo\nweekly: {mon: ['09:00-18:00']}\nholiday: []\n", "unknown keys"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(HoursConfigError, match=message) as info:
        load_hours(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(HoursConfigError, match="not found"):
        load_hours(tmp_path / "nope.yml")


def test_closure_longer_than_a_year_still_finds_opening(tmp_path):
    h = load_hours(
        write(
            tmp_path,
            """
timezone: Asia/Tokyo
weekly: {mon: ["09:00-18:00"]}
closures: [{name: 改装, start: 2026-01-01, end: 2027-03-31}]
""",
        )
    )
    assert h.next_opening(jst(2026, 6, 1, 12, 0)) == jst(2027, 4, 5, 9, 0)
    assert h.describe_hours() == "月曜 9:00〜18:00(火水木金土日・改装を除く)"
