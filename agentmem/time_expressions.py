"""Time expressions: the stretch of time a question asks about ("last week", "on 14 March 2024", "in May
2023", "two days ago"), and the one a memory's text names ("Booked the flight for 9 January 2024", "I
went to the group yesterday"), so a read can prefer memories whose time falls in the question's.

`window(text, now)` gives the first expression's interval `[start, end)` in unix seconds (UTC), or None
when the text has none. Absolute dates resolve on their own; a date without a year, and every relative
expression, need `now` (the time the question is asked) and give None without it. Dates read day first
when dotted ("14.03.2024", the European form) and month first when slashed ("3/14/2024"), unless the
first number cannot be a month.

Rules, not a model: the expressions people use for dates in chats are few, and a wrong guess costs a
read only the `when` signal (candidates.py), whose weight is learned.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for m in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3,
}  # fmt: skip

_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(\d{4})"
_COUNT = r"(\d+|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
_UNIT = r"(day|week|month|year)s?"

# (pattern, kind), tried in this order: longer, more specific forms first.
PATTERNS = tuple(
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        (r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", "iso"),
        (r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b", "dotted"),
        (r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", "slashed"),
        (rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", "day month year"),
        (rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", "month day year"),
        (rf"\b{_MONTH},?\s+{_YEAR}\b", "month year"),
        (rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b", "day month"),
        (rf"\b{_MONTH}\s+{_DAY}\b(?!:)", "month day"),
        (r"\b(\d{1,2})/(\d{1,2})\b(?!/)", "slashed no year"),
        (r"\b(?:in|during|since|of)\s+(\d{4})\b", "year"),
        (r"\bthe day before yesterday\b", "day before yesterday"),
        (r"\byesterday\b|\blast night\b", "yesterday"),
        (r"\btoday\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b", "today"),
        (rf"\b{_COUNT}\s+{_UNIT}\s+ago\b", "ago"),
        (r"\blast\s+(week|weekend|month|year)\b", "last"),
        (r"\bthis\s+(week|weekend|month|year)\b", "this"),
        (r"\blast\s+(" + "|".join(WEEKDAYS) + r")\b", "last weekday"),
        (r"\b(?:on\s+)(" + "|".join(WEEKDAYS) + r")\b", "weekday"),
        (r"\bin\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b", "month"),
    )
)
_DAY_S = 86_400.0

# Every memory's text is scanned as it is written (storage), and most name no time: the words the
# patterns need, and the forms their digits take, tell such texts apart at a tenth of the cost of the
# scan. `_cued` is exact for ASCII text; other text takes one search whose case folding is the
# patterns' own.
_DIGIT = re.compile(r"\d")
# Digits name a date only beside a month's name, between separators ("2024-03-14", "14.03.2024",
# "3/14"), or as a year after "in", "during", "since" or "of".
_DIGIT_FORMS = re.compile(r"\d[-./]\d|\b(?:in|during|since|of)\s+\d{4}\b", re.IGNORECASE)
_WORDS = re.compile(r"[a-z]+")
_ALONE = frozenset(("yesterday", "today", "tonight", "ago"))
_LEADS = frozenset(("last", "this", "on", "in"))
_LED = frozenset((*MONTHS, *WEEKDAYS, "week", "weekend", "month", "year", "night", "morning", "afternoon", "evening"))
_CUE = re.compile(
    r"\d|\b(?:" + "|".join(_ALONE) + r")\b|\b(?:" + "|".join(_LEADS) + r")\s+(?:"
    + "|".join(sorted(_LED, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)  # fmt: skip


def window(text: str, now: float | None = None) -> tuple[float, float] | None:
    """The interval `[start, end)` (unix seconds, UTC) of the first time expression in `text`, or None.
    `now`: when the text is said (unix seconds); expressions relative to it give None without it."""
    return _scan(text, now) if _cued(text) else None


def named_time(text: str, event_time: float | None) -> tuple[float, float] | None:
    """The stretch of time a memory's `text` names: its first time expression, resolved against the
    memory's `event_time` ("yesterday" said on 8 May is 7 May), or None. Storage keeps it beside the
    event time, so a read matches a question's time against both (controller/candidates.py, `when`)."""
    return window(text, event_time)


def _cued(text: str) -> bool:
    """Whether `text` may hold a time expression: False only when no pattern can match it."""
    if not text.isascii():
        return _CUE.search(text) is not None
    words = set(_WORDS.findall(text.lower()))
    if not words.isdisjoint(_ALONE) or (not words.isdisjoint(_LEADS) and not words.isdisjoint(_LED)):
        return True
    return _DIGIT.search(text) is not None and (not words.isdisjoint(MONTHS) or _DIGIT_FORMS.search(text) is not None)


def _scan(text: str, now: float | None) -> tuple[float, float] | None:
    """`window` without the cue check: every pattern over the whole text."""
    try:
        today = None if now is None else datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):  # a time no calendar date holds resolves nothing relative
        today = None
    for pattern, kind in PATTERNS:
        for m in pattern.finditer(text):
            try:
                span = _resolve(kind, m.groups(), today)
            except OverflowError:  # an interval reaching past year 9999
                span = None
            if span is not None:
                start, end = span
                return _seconds(start), _seconds(end)
    return None


def _seconds(t: datetime) -> float:
    return t.replace(tzinfo=timezone.utc).timestamp()


def _day(year: int, month: int, day: int) -> tuple[datetime, datetime] | None:
    try:
        start = datetime(year, month, day)
    except ValueError:
        return None
    return start, start + timedelta(days=1)


def _month(year: int, month: int) -> tuple[datetime, datetime] | None:
    if not 1 <= month <= 12 or not 1 <= year <= 9998:
        return None
    return datetime(year, month, 1), datetime(year + month // 12, month % 12 + 1, 1)


def _latest(today: datetime | None, month: int, day: int | None) -> tuple[datetime, datetime] | None:
    """The last such day (or month, `day` None) at or before `today`: "on March 14" said in April 2024
    means 14 March 2024, said in February 2024 it means 14 March 2023."""
    if today is None:
        return None
    for year in (today.year, today.year - 1):
        span = _month(year, month) if day is None else _day(year, month, day)
        if span is not None and span[0] <= today:
            return span
    return None


def _resolve(kind: str, g: tuple[str | None, ...], today: datetime | None) -> tuple[datetime, datetime] | None:
    """The interval one matched expression names; None when it cannot be resolved."""
    if kind == "iso":
        return _day(int(g[0]), int(g[1]), int(g[2]))
    if kind == "dotted":
        return _day(int(g[2]), int(g[1]), int(g[0]))
    if kind == "slashed":
        a, b, year = int(g[0]), int(g[1]), int(g[2])
        return _day(year, a, b) if a <= 12 else _day(year, b, a)
    if kind == "day month year":
        return _day(int(g[2]), MONTHS[g[1].lower()], int(g[0]))
    if kind == "month day year":
        return _day(int(g[2]), MONTHS[g[0].lower()], int(g[1]))
    if kind == "month year":
        return _month(int(g[1]), MONTHS[g[0].lower()])
    if kind == "day month":
        return _latest(today, MONTHS[g[1].lower()], int(g[0]))
    if kind == "month day":
        return _latest(today, MONTHS[g[0].lower()], int(g[1]))
    if kind == "slashed no year":
        a, b = int(g[0]), int(g[1])
        return _latest(today, a, b) if a <= 12 else _latest(today, b, a)
    if kind == "year":
        year = int(g[0])
        return (datetime(year, 1, 1), datetime(year + 1, 1, 1)) if 1 <= year <= 9998 else None
    if kind == "month":
        return _latest(today, MONTHS[g[0].lower()], None)
    if today is None:
        return None
    midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "today":
        return midnight, midnight + timedelta(days=1)
    if kind == "yesterday":
        return midnight - timedelta(days=1), midnight
    if kind == "day before yesterday":
        return midnight - timedelta(days=2), midnight - timedelta(days=1)
    if kind == "ago":
        count = int(g[0]) if g[0].isdigit() else NUMBERS[g[0].lower()]
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[g[1].lower()] * count
        # "two weeks ago" is about then, give or take: half a unit each way.
        slack = {"day": 1, "week": 3, "month": 10, "year": 120}[g[1].lower()]
        centre = midnight - timedelta(days=days)
        return centre - timedelta(days=slack), centre + timedelta(days=slack + 1)
    if kind in ("last", "this"):
        unit = g[0].lower()
        if unit in ("week", "weekend"):
            monday = midnight - timedelta(days=midnight.weekday())
            start = monday - timedelta(days=7) if kind == "last" else monday
            if unit == "weekend":
                start += timedelta(days=5)
                return start, start + timedelta(days=2)
            return start, start + timedelta(days=7)
        if unit == "month":
            month = today.month - (kind == "last")
            year = today.year - (month == 0)
            return _month(year, month or 12)
        year = today.year - (kind == "last")
        return datetime(year, 1, 1), datetime(year + 1, 1, 1)
    if kind in ("last weekday", "weekday"):
        back = (midnight.weekday() - WEEKDAYS.index(g[0].lower())) % 7 or 7
        start = midnight - timedelta(days=back)
        return start, start + timedelta(days=1)
    return None
