"""Java DateTimeFormatter patterns (what ksqlDB's date functions take): formatting and parsing.

A pattern is cut into tokens once (letters repeated, 'quoted text', other characters); each
token formats one field of a datetime, and parsing builds one regular expression from them.
"""
from __future__ import annotations

import calendar
import functools
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.DOTALL)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@functools.lru_cache(maxsize=256)
def tokens(pattern: str) -> tuple[str, ...]:
    return tuple(m.group() for m in _TOKEN.finditer(pattern))


# Java's three-letter zone IDs (ZoneId.SHORT_IDS), plus the daylight names zone text parses to.
SHORT_IDS = {
    "ACT": "Australia/Darwin", "AET": "Australia/Sydney", "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo", "AST": "America/Anchorage", "BET": "America/Sao_Paulo", "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare", "CNT": "America/St_Johns", "CST": "America/Chicago", "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa", "ECT": "Europe/Paris", "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "MIT": "Pacific/Apia", "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland", "PLT": "Asia/Karachi", "PNT": "America/Phoenix", "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles", "SST": "Pacific/Guadalcanal", "VST": "Asia/Ho_Chi_Minh",
    "EST": "-05:00", "MST": "-07:00", "HST": "-10:00",
    "PDT": "America/Los_Angeles", "MDT": "America/Denver", "CDT": "America/Chicago", "EDT": "America/New_York",
}


# Java's full time zone names (pattern zzzz), for the zones people write them for
LONG_NAMES = {
    "Coordinated Universal Time": "UTC", "Greenwich Mean Time": "GMT",
    "Pacific Standard Time": "America/Los_Angeles", "Pacific Daylight Time": "America/Los_Angeles",
    "Mountain Standard Time": "America/Denver", "Mountain Daylight Time": "America/Denver",
    "Central Standard Time": "America/Chicago", "Central Daylight Time": "America/Chicago",
    "Eastern Standard Time": "America/New_York", "Eastern Daylight Time": "America/New_York",
    "Alaska Standard Time": "America/Anchorage", "Alaska Daylight Time": "America/Anchorage",
    "Hawaii Standard Time": "Pacific/Honolulu", "British Summer Time": "Europe/London",
    "Central European Standard Time": "Europe/Paris", "Central European Summer Time": "Europe/Paris",
    "Central European Time": "Europe/Paris", "Eastern European Time": "Europe/Athens",
    "India Standard Time": "Asia/Kolkata", "Japan Standard Time": "Asia/Tokyo",
    "China Standard Time": "Asia/Shanghai", "Australian Eastern Standard Time": "Australia/Sydney",
}


def zone(name: str):
    """A time zone by ID ('UTC', 'Europe/London', '+05:00', 'GMT+1', 'PST')."""
    name = SHORT_IDS.get(name, name)
    if name in ("UTC", "Z", "GMT"):
        return timezone.utc
    match = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", name)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"Unknown time zone: {name}") from None


def _offset(moment: datetime, colon: bool, z_for_zero: bool) -> str:
    offset = moment.utcoffset() or timedelta(0)
    if z_for_zero and not offset:
        return "Z"
    total = int(offset.total_seconds() // 60)
    sign = "+" if total >= 0 else "-"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"


def format_datetime(moment, pattern: str) -> str:
    out = []
    for token in tokens(pattern):
        letter, width = token[0], len(token)
        if letter == "'":
            out.append(token[1:-1].replace("''", "'") if width > 2 else "'")
        elif not letter.isalpha():
            out.append(token)
        elif letter in "yu":
            out.append(f"{moment.year % 100:02d}" if width == 2 else f"{moment.year:0{width}d}")
        elif letter in "ML":
            out.append(_MONTHS[moment.month - 1] if width >= 4 else _MONTHS[moment.month - 1][:3] if width == 3
                       else f"{moment.month:0{width}d}")
        elif letter == "d":
            out.append(f"{moment.day:0{width}d}")
        elif letter == "D":
            out.append(f"{moment.timetuple().tm_yday:0{width}d}")
        elif letter == "E":
            name = _DAYS[moment.weekday()]
            out.append(name if width >= 4 else name[:3])
        elif letter == "H":
            out.append(f"{moment.hour:0{width}d}")
        elif letter == "h":
            out.append(f"{(moment.hour % 12) or 12:0{width}d}")
        elif letter == "k":
            out.append(f"{moment.hour or 24:0{width}d}")
        elif letter == "m":
            out.append(f"{moment.minute:0{width}d}")
        elif letter == "s":
            out.append(f"{moment.second:0{width}d}")
        elif letter == "S":
            out.append(f"{moment.microsecond:06d}"[:width].ljust(width, "0"))
        elif letter == "a":
            out.append("AM" if moment.hour < 12 else "PM")
        elif letter == "X":
            out.append(_offset(moment, width >= 3, True))
        elif letter == "x":
            out.append(_offset(moment, width >= 3, False))
        elif letter == "Z":
            out.append(_offset(moment, width >= 4, False))
        elif letter == "z":
            out.append(moment.tzname() or "UTC")
        elif letter == "V":
            out.append(getattr(moment.tzinfo, "key", moment.tzname() or "UTC"))
        else:
            raise ValueError(f"Unsupported pattern letter: {letter}")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _prefix(regex: re.Pattern) -> re.Pattern:
    """The pattern's regular expression without its end anchor."""
    return re.compile(regex.pattern.removesuffix(r"\Z"), regex.flags)


@functools.lru_cache(maxsize=256)
def _parser(pattern: str):
    parts, groups = [], []
    for token in tokens(pattern):
        letter, width = token[0], len(token)
        if letter == "'":
            parts.append(re.escape(token[1:-1].replace("''", "'") if width > 2 else "'"))
            continue
        if not letter.isalpha():
            parts.append(re.escape(token))
            continue
        name = f"g{len(groups)}"
        groups.append((name, letter, width))
        if letter in "ML" and width >= 3:
            parts.append(f"(?P<{name}>[A-Za-z]+)")
        elif letter == "E":
            parts.append(f"(?P<{name}>[A-Za-z]+)")
        elif letter == "a":
            parts.append(f"(?P<{name}>[AaPp][Mm])")
        elif letter in "XxZ":
            parts.append(f"(?P<{name}>Z|[+-]\\d{{2}}:?\\d{{2}}|[+-]\\d{{2}})")
        elif letter == "z" and width >= 4:  # a zone's full name: Pacific Daylight Time
            parts.append(f"(?P<{name}>[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*)")
        elif letter in "zV":
            parts.append(f"(?P<{name}>[A-Za-z_/+-]+(?:[+-]\\d+)?)")
        elif letter == "G":
            parts.append(f"(?P<{name}>AD|BC|Anno Domini|Before Christ|A|B)")
        elif letter == "S":
            parts.append(f"(?P<{name}>\\d{{1,{max(width, 9)}}})")
        elif letter in "yu" and width != 2:
            parts.append(f"(?P<{name}>[+-]?\\d{{{width},9}})")
        else:
            parts.append(f"(?P<{name}>\\d{{1,{max(width, 2)}}})" if width == 1 else f"(?P<{name}>\\d{{{width}}})")
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE), tuple(groups)


def parse_datetime(text: str, pattern: str, default_zone=timezone.utc, whole: bool = True) -> datetime:
    """A datetime from text; fields the pattern lacks default to 1970-01-01 00:00:00. With
    whole=False, text after what the pattern reads is ignored (ksqlDB's PARSE_DATE does so)."""
    regex, groups = _parser(pattern)
    if not whole:
        regex = _prefix(regex)
    match = regex.match(text.strip())
    if match is None:
        raise ValueError(f"Text '{text}' could not be parsed with pattern '{pattern}'")
    year, month, day, hour, minute, second, micros = 1970, 1, 1, 0, 0, 0, 0
    pm, tz, before_christ = None, None, False
    day_of_year = None
    for name, letter, width in groups:
        value = match.group(name)
        if letter in "yu":
            year = int(value) + (2000 if width == 2 else 0)
        elif letter in "ML":
            month = int(value) if value.isdigit() else next(
                i + 1 for i, m in enumerate(_MONTHS) if m.lower().startswith(value.lower()))
        elif letter == "d":
            day = int(value)
        elif letter == "D":
            day_of_year = int(value)
        elif letter in "Hk":
            hour = int(value) % 24
        elif letter == "h":
            hour = int(value) % 12
        elif letter == "m":
            minute = int(value)
        elif letter == "s":
            second = int(value)
        elif letter == "S":
            micros = int(value.ljust(6, "0")[:6])
        elif letter == "a":
            pm = value.upper() == "PM"
        elif letter in "XxZ":
            tz = timezone.utc if value.upper() == "Z" else zone(value if ":" in value or len(value) > 3
                                                                 else value + ":00")
        elif letter in "zV":
            tz = zone(LONG_NAMES.get(value, value))
        elif letter == "G":
            before_christ = value.upper().startswith("B")
    if before_christ:
        year = 1 - year
    if pm:
        hour += 12
    if 28 < day <= 31:  # Java's SMART resolver: 31 June is 30 June, 30 February the month's last day
        day = min(day, calendar.monthrange(year, month)[1]) if 1 <= month <= 12 else day
    moment = datetime(year, month, day, hour, minute, second, micros)
    if day_of_year is not None:
        moment = moment.replace(month=1, day=1) + timedelta(days=day_of_year - 1)
    return moment.replace(tzinfo=tz or default_zone)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def from_millis(millis: int, tz=timezone.utc) -> datetime:
    return (EPOCH + timedelta(milliseconds=millis)).astimezone(tz)


def date_from_days(days: int) -> date:
    return date(1970, 1, 1) + timedelta(days=days)


def time_from_millis(millis: int) -> time:
    return (datetime(1970, 1, 1) + timedelta(milliseconds=millis)).time()
