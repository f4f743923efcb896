"""Regular expressions: RE2 (Arrow's, linear) for every pattern it can run, Java's syntax through
the `regex` module, with a time limit per value, for the rest (back-references, lookaround)."""
from __future__ import annotations

import functools
import re
import pyarrow as pa
import pyarrow.compute as pc
import regex
from ksql.parser.errors import KsqlRecordError
from ksql.planner import types as T
from ksql.planner.library.common import (I, S, VARIES, _nulls, _sql_text, constant,
                                         duck, fn, overloads, sig,
                                         with_fallback)


# ---------------------------------------------------------------- regular expressions (RE2)

def re2_pattern(pattern: str) -> str:
    """Java's named groups in RE2's spelling; other Java features RE2 lacks make Arrow raise."""
    return re.sub(r"\(\?<(?![=!])", "(?P<", pattern)


def _capture_starts(pattern: str) -> list[int]:
    """Where each capturing group's '(' is, in order."""
    starts, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (not pattern.startswith("(?", i) or pattern.startswith("(?P<", i)):
            starts.append(i)
        i += 1
    return starts


def _one_group(pattern: str, group: int) -> str | None:
    """The pattern with its capturing group number `group` (0: the whole match) as the only
    group, named g: Arrow's extract_regex wants named groups only. None: no such group."""
    starts = _capture_starts(pattern)
    if group > len(starts):
        return None
    out, last = [], 0
    for number, at in enumerate(starts, 1):
        opening = pattern.index(">", at) + 1 if pattern.startswith("(?P<", at) else at + 1
        out += [pattern[last:at], "(?P<g>" if number == group else "(?:"]
        last = opening
    out.append(pattern[last:])
    rewritten = "".join(out)
    return f"(?P<g>{rewritten})" if group == 0 else rewritten


def regexp_extract(values, n):
    pattern = constant(values[0])
    group = constant(values[2]) if len(values) > 2 else 0
    if pattern is VARIES or group is VARIES:
        return None
    if pattern is None or group is None:
        return _nulls(n)
    if group < 0:
        return None
    named = _one_group(re2_pattern(pattern), group)
    if named is None:
        return None
    return pc.struct_field(pc.extract_regex(values[1], pattern=named), [0])


def _re2_replacement(text: str) -> str:
    """Java's replacement syntax ($1 a group, \\x a literal x) in RE2's (\\1 a group)."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append("\\\\" if text[i + 1] == "\\" else text[i + 1])
            i += 2
            continue
        if c == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("\\" + text[i + 1])
            i += 2
            continue
        out.append("\\\\" if c == "\\" else c)
        i += 1
    return "".join(out)


def regexp_replace(values, n):
    pattern, replacement = constant(values[1]), constant(values[2])
    if pattern is VARIES or replacement is VARIES:
        return None
    if pattern is None or replacement is None:
        return _nulls(n)
    return pc.replace_substring_regex(values[0], pattern=re2_pattern(pattern),
                                      replacement=_re2_replacement(replacement))


def regexp_split(values, n):
    pattern = constant(values[1])
    if pattern is VARIES or not pattern:
        return None
    return pc.split_pattern_regex(values[0], pattern=re2_pattern(pattern))


def regexp_extract_all(values, n):
    pattern = constant(values[0])
    group = constant(values[2]) if len(values) > 2 else 0
    if pattern is VARIES or group is VARIES or pattern is None or group is None:
        return None
    return duck(f"regexp_extract_all(a1, {_sql_text(re2_pattern(pattern))}, {int(group)})",
                values[1:2], n, pa.list_(pa.string()))


def _java_regex(pattern: str) -> str:
    """Java regex syntax mostly matches Python's; possessive and named-group spellings differ."""
    return pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")


# How long one regular expression may take over one value. Patterns that backtrack
# catastrophically ('(a|aa)+$') stop there: the record goes to the processing log.
REGEX_TIMEOUT = 0.5


class RegexTimeout(KsqlRecordError):
    pass


class _JavaPattern:
    """A Java regex run by the `regex` module: it releases the GIL while it matches (other
    queries and the server go on) and gives up after REGEX_TIMEOUT, where Python's `re` would
    hold the whole process until it is done. Patterns RE2 can run never get here: the batch
    kernels above use Arrow's RE2, which is linear."""

    def __init__(self, pattern: str):
        self.text = pattern
        self.compiled = regex.compile(_java_regex(pattern), regex.ASCII | regex.VERSION0)

    def _run(self, call):
        try:
            return call(timeout=REGEX_TIMEOUT, concurrent=True)
        except TimeoutError:
            raise RegexTimeout(f"The regular expression '{self.text}' took longer than {REGEX_TIMEOUT} s "
                               f"to match one value") from None

    def search(self, text: str):
        return self._run(lambda **options: self.compiled.search(text, **options))

    def finditer(self, text: str) -> list:
        return self._run(lambda **options: list(self.compiled.finditer(text, **options)))

    def sub(self, replacement, text: str) -> str:
        return self._run(lambda **options: self.compiled.sub(replacement, text, **options))


@functools.lru_cache(maxsize=256)
def _java_compile(pattern: str) -> _JavaPattern:
    """A Java regex in Python: as in Java, \\w, \\d, \\s and \\b are ASCII classes."""
    return _JavaPattern(pattern)


def _java_split(text: str, pattern: str) -> list[str]:
    """Java's split with no limit on the count: captured groups are not part of the result."""
    pieces, start = [], 0
    for match in _java_compile(pattern).finditer(text):
        if match.end() == 0 and match.start() == 0:
            continue  # Java never makes an empty first piece from a zero-width match at the start
        pieces.append(text[start:match.start()])
        start = match.end()
    pieces.append(text[start:])
    return pieces


def _java_replacement(text: str):
    """Java's replacement syntax ($1 a group, \\x a literal x) as a function of the match."""
    pieces = re.findall(r"\\(.)|\$(\d)|(.)", text, re.DOTALL)

    def expand(match):
        return "".join(literal or (match.group(int(group)) or "" if group else plain)
                       for literal, group, plain in pieces)
    return expand


fn("REGEXP_EXTRACT", "REGULAR_EXPRESSION", "The first match of a pattern (or of one of its groups).",
   overloads(sig(S, S, ret=S), sig(S, S, I, ret=S)),
   with_fallback(regexp_extract,
                 lambda p, s, g=0: (lambda m: m.group(g) if m else None)(_java_compile(p).search(s))),
   "REGEXP_EXTRACT(pattern, s [, group])")
fn("REGEXP_EXTRACT_ALL", "REGULAR_EXPRESSION", "Every match of a pattern (or of one of its groups).",
   overloads(sig(S, S, ret=T.array(S)), sig(S, S, I, ret=T.array(S))),
   with_fallback(regexp_extract_all, lambda p, s, g=0: [m.group(g) for m in _java_compile(p).finditer(s)]),
   "REGEXP_EXTRACT_ALL(pattern, s [, group])")
fn("REGEXP_REPLACE", "REGULAR_EXPRESSION", "Replaces every match of a pattern.", overloads(sig(S, S, S, ret=S)),
   with_fallback(regexp_replace, lambda s, p, r: _java_compile(p).sub(_java_replacement(r), s)),
   "REGEXP_REPLACE(s, pattern, replacement)")
fn("REGEXP_SPLIT_TO_ARRAY", "REGULAR_EXPRESSION", "Splits a string around matches of a pattern.",
   overloads(sig(S, S, ret=T.array(S))), with_fallback(regexp_split, _java_split),
   "REGEXP_SPLIT_TO_ARRAY(s, pattern)")
