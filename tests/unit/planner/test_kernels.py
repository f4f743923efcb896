"""The batch kernels give the same results as the functions' row-by-row definitions, on
generated batches that mix ordinary values with the unusual ones each kernel hands back."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksql.planner.library import FUNCTIONS

TEXT = st.text(alphabet="abcXYZ019 ,.-_é\t*~%+=&@:/?#", max_size=12)
SETTINGS = settings(max_examples=int(__import__("os").environ.get("KERNEL_EXAMPLES", 60)), deadline=None)


def both(name, values):
    """The function's batch result and its row-by-row result, as Python lists."""
    evaluate = FUNCTIONS[name].evaluate
    n = max((len(v) for v in values if isinstance(v, pa.Array)), default=1)
    fast, slow = evaluate(values, n), evaluate.reference(values, n)
    as_list = (lambda r: r if isinstance(r, list) else
               (pa.array([r.as_py()] * n) if isinstance(r, pa.Scalar) else r).to_pylist())
    return as_list(fast), [None if x is None else x for x in as_list(slow)]


def check(name, *values):
    fast, slow = both(name, list(values))
    if isinstance(slow[0] if slow else None, float) or any(isinstance(x, float) for x in slow):
        assert fast == pytest.approx(slow, rel=1e-12, nan_ok=True)
    else:
        assert fast == slow


def strings(items):
    return pa.array(items, pa.string())


@SETTINGS
@given(st.lists(st.none() | TEXT, min_size=1, max_size=8), TEXT.filter(bool), TEXT)
def test_replace_split_instr(items, old, new):
    check("REPLACE", strings(items), pa.scalar(old), pa.scalar(new))
    check("SPLIT", strings(items), pa.scalar(old))
    check("INSTR", strings(items), pa.scalar(old))


@SETTINGS
@given(st.lists(st.none() | TEXT, min_size=1, max_size=8), st.integers(-1, 15), st.sampled_from(["", "*", "ab", "xyz"]))
def test_pads(items, length, filler):
    check("LPAD", strings(items), pa.scalar(length, pa.int32()), pa.scalar(filler))
    check("RPAD", strings(items), pa.scalar(length, pa.int32()), pa.scalar(filler))


@SETTINGS
@given(st.lists(st.lists(st.none() | TEXT, min_size=3, max_size=3), min_size=1, max_size=6), st.sampled_from(["", ",", " - "]))
def test_concat_ws_and_initcap(rows, sep):
    columns = [strings([r[i] for r in rows]) for i in range(3)]
    check("CONCAT_WS", pa.scalar(sep), *columns)
    check("INITCAP", columns[0])


@SETTINGS
@given(st.lists(st.none() | TEXT, min_size=1, max_size=8), st.integers(0, 6),
       st.sampled_from([(), ("U",), ("U", "l", "#", "."), (None, "l", None, "+")]))
def test_masks(items, count, chars):
    args = [pa.scalar(c, pa.string()) for c in chars]
    check("MASK", strings(items), *args)
    for name in ("MASK_LEFT", "MASK_KEEP_LEFT", "MASK_RIGHT", "MASK_KEEP_RIGHT"):
        check(name, strings(items), pa.scalar(count, pa.int32()), *args)


PATTERNS = ["a", "[0-9]+", r"(\w+)@(\w+)", "x*", r"\s", "(?<name>[a-c])z", "b|9"]


@SETTINGS
@given(st.lists(st.none() | TEXT, min_size=1, max_size=8), st.sampled_from(PATTERNS), st.sampled_from(["_", "$1", r"\$"]))
def test_regular_expressions(items, pattern, replacement):
    groups = 2 if "@" in pattern else 1 if "(" in pattern else 0
    for group in range(groups + 1):
        check("REGEXP_EXTRACT", pa.scalar(pattern), strings(items), pa.scalar(group, pa.int32()))
        check("REGEXP_EXTRACT_ALL", pa.scalar(pattern), strings(items), pa.scalar(group, pa.int32()))
    if replacement != "$1" or groups:
        check("REGEXP_REPLACE", strings(items), pa.scalar(pattern), pa.scalar(replacement))
    if "*" not in pattern:  # zero-width matches split differently in every regex engine
        check("REGEXP_SPLIT_TO_ARRAY", strings(items), pa.scalar(pattern))


URLS = st.builds(lambda scheme, host, port, path, query, frag: f"{scheme}://{host}{port}{path}{query}{frag}",
                 st.sampled_from(["http", "https", "ftp"]), st.sampled_from(["example.com", "Host.ORG", "a-b.c"]),
                 st.sampled_from(["", ":8080", ":"]), st.sampled_from(["", "/", "/a/b.html", "/x%20y"]),
                 st.sampled_from(["", "?", "?a=1&b=two", "?a&b=", "?q=x+y&a=%41"]), st.sampled_from(["", "#", "#top"]))


@SETTINGS
@given(st.lists(st.none() | URLS | TEXT, min_size=1, max_size=8), st.sampled_from(["a", "b", "q", "zz"]))
def test_urls(items, name):
    for part in ("HOST", "PORT", "PATH", "PROTOCOL", "QUERY", "FRAGMENT"):
        check(f"URL_EXTRACT_{part}", strings(items))
    check("URL_EXTRACT_PARAMETER", strings(items), pa.scalar(name))
    check("URL_ENCODE_PARAM", strings(items))
    check("URL_DECODE_PARAM", strings(items))


def test_url_encoding_follows_java():
    fast, slow = both("URL_ENCODE_PARAM", [strings(["a b*~é", "plain-text_1.2"])])
    assert fast == slow == ["a+b*%7E%C3%A9", "plain-text_1.2"]


FORMATS = ["yyyy-MM-dd HH:mm:ss.SSS", "dd/MM/yy h:mm a", "yyyyMMdd'T'HHmmss", "MMM d, yyyy EEE",
           "D k S SS", "'literal'", "yyyy-MM-dd", "HH:mm", "yyyy-MM-dd'T'HH:mm:ss.SSS", "100%% ss"]
MILLIS = st.integers(-5_000_000_000_000, 5_000_000_000_000)


@SETTINGS
@given(st.lists(st.none() | MILLIS, min_size=1, max_size=8), st.sampled_from(FORMATS),
       st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "+05:30"]))
def test_date_formatting_and_parsing(millis, pattern, zone):
    values = pa.array(millis, pa.int64())
    check("TIMESTAMPTOSTRING", values, pa.scalar(pattern), pa.scalar(zone))
    check("FORMAT_TIMESTAMP", pc.cast(values, pa.timestamp("ms")), pa.scalar(pattern), pa.scalar(zone))
    check("FORMAT_DATE", pc.cast(pc.divide(values, 86_400_000), pa.int32()).cast(pa.date32()), pa.scalar(pattern))
    text, _ = both("TIMESTAMPTOSTRING", [values, pa.scalar(pattern), pa.scalar(zone)])
    if "M" not in pattern.replace("MM", "") and "E" not in pattern:
        check("STRINGTOTIMESTAMP", strings(text + ["garbage", "2021-02-30 10:00:00.000"]), pa.scalar(pattern),
              pa.scalar(zone))
        check("PARSE_TIMESTAMP", strings(text), pa.scalar(pattern), pa.scalar(zone))


def test_parsing_resolves_days_past_the_month_end_as_java_does():
    # Java's SMART resolver (the docs: PARSE_TIMESTAMP('2021-06-31 ...') is 2021-06-30); a day
    # past 31 does not parse
    fast, slow = both("PARSE_DATE", [strings(["2021-02-28", "2021-02-29", "2020-02-29", "2021-06-31", "2021-01-32",
                                              None]), pa.scalar("yyyy-MM-dd")])
    assert fast == slow == [dt.date(2021, 2, 28), dt.date(2021, 2, 28), dt.date(2020, 2, 29), dt.date(2021, 6, 30),
                            None, None]


JSON = st.sampled_from(['{"a": {"b": [1, 2.5, "x"]}, "c": "hi"}', '[1, 2, 3]', '{"a": null}', "", "nope",
                        '"text"', "12", '{"c": {"d": true}}', '{"a": [], "b": {}}'])


@SETTINGS
@given(st.lists(st.none() | JSON, min_size=1, max_size=8), st.sampled_from(["$.a", "$.c", "$.a.b[1]", "$['c']", "$"]))
def test_json(items, path):
    check("EXTRACTJSONFIELD", strings(items), pa.scalar(path))
    check("JSON_ARRAY_LENGTH", strings(items))
    check("JSON_KEYS", strings(items))
    check("IS_JSON_STRING", strings(items))


@SETTINGS
@given(st.lists(st.none() | TEXT, min_size=1, max_size=8))
def test_md5(items):
    check("MD5", strings(items))


@SETTINGS
@given(st.lists(st.tuples(*[st.floats(-90, 90)] * 4), min_size=1, max_size=6), st.sampled_from([None, "KM", "mi"]))
def test_geo_distance(points, unit):
    columns = [pa.array([p[i] for p in points], pa.float64()) for i in range(4)]
    check("GEO_DISTANCE", *columns, pa.scalar(unit, pa.string()))


INTS = st.none() | st.integers(-3, 3)
LISTS = st.none() | st.lists(INTS, max_size=6)


@SETTINGS
@given(st.lists(st.tuples(LISTS, LISTS, INTS), min_size=1, max_size=6), st.sampled_from(["ASC", "desc"]),
       st.integers(-1, 4), st.integers(0, 6))
def test_arrays(rows, direction, start, end):
    a = pa.array([r[0] for r in rows], pa.list_(pa.int32()))
    b = pa.array([r[1] for r in rows], pa.list_(pa.int32()))
    x = pa.array([r[2] for r in rows], pa.int32())
    for name in ("ARRAY_DISTINCT", "ARRAY_MAX", "ARRAY_MIN", "ARRAY_SORT"):
        check(name, a)
    check("ARRAY_SORT", a, pa.scalar(direction))
    for name in ("ARRAY_EXCEPT", "ARRAY_INTERSECT", "ARRAY_UNION", "ARRAY_CONCAT"):
        check(name, a, b)
    check("ARRAY_CONTAINS", a, x)
    check("ARRAY_REMOVE", a, x)
    check("ARRAY_CONTAINS", a, pa.scalar(None, pa.int32()))
    check("SLICE", a, pa.scalar(start, pa.int32()), pa.scalar(end, pa.int32()))


@SETTINGS
@given(st.lists(st.none() | st.dictionaries(st.sampled_from("abc"), INTS, max_size=3), min_size=1, max_size=6))
def test_map_keys_and_values(maps):
    m = pa.array([None if d is None else list(d.items()) for d in maps], pa.map_(pa.string(), pa.int32()))
    check("MAP_KEYS", m)
    check("MAP_VALUES", m)


@SETTINGS
@given(st.lists(st.none() | st.sampled_from(["", "00ff", "0g", "abc", "QUJD", "QUI=", "Q", "héllo"]), min_size=1,
                max_size=6), st.sampled_from(["hex", "base64", "utf8", "ascii"]))
def test_bytes(items, encoding):
    check("TO_BYTES", strings(items), pa.scalar(encoding))
    blobs = pa.array([None if s is None else s.encode() for s in items] + [b"\xff\xfe"], pa.binary())
    check("FROM_BYTES", blobs, pa.scalar(encoding))


@SETTINGS
@given(st.lists(st.none() | MILLIS, min_size=1, max_size=6), st.integers(-100, 100),
       st.sampled_from(["DAYS", "hour", "MILLISECONDS", "MINUTE"]),
       st.sampled_from([("UTC", "America/Los_Angeles"), ("Europe/Paris", "UTC"), ("Asia/Tokyo", "+01:00")]))
def test_date_arithmetic_and_zones(millis, amount, unit, zones):
    values = pa.array(millis, pa.int64())
    moments = pc.cast(values, pa.timestamp("ms"))
    days = pc.cast(pc.cast(pc.divide(values, 86_400_000), pa.int32()), pa.date32())
    times = pa.array([None if m is None else m % 86_400_000 for m in millis], pa.int32()).cast(pa.time32("ms"))
    amount = pa.scalar(amount, pa.int32())
    for name, value in (("TIMESTAMPADD", moments), ("TIMESTAMPSUB", moments), ("TIMEADD", times),
                        ("TIMESUB", times), ("DATEADD", days), ("DATESUB", days)):
        check(name, pa.scalar(unit), amount, value)
    check("CONVERT_TZ", moments, pa.scalar(zones[0]), pa.scalar(zones[1]))


@SETTINGS
@given(st.lists(st.tuples(st.none() | st.integers(-1, 4), st.none() | st.sampled_from("ab"),
                          st.none() | st.sampled_from("ab")), min_size=1, max_size=6))
def test_elt_and_field(rows):
    index = pa.array([r[0] for r in rows], pa.int32())
    first, second = strings([r[1] for r in rows]), strings([r[2] for r in rows])
    check("ELT", index, first, second)
    check("FIELD", first, second, pa.scalar("a"), first)


@SETTINGS
@given(st.lists(st.none() | st.binary(min_size=4, max_size=4), min_size=1, max_size=6),
       st.lists(st.none() | st.binary(min_size=8, max_size=8), min_size=1, max_size=6),
       st.sampled_from(["BIG_ENDIAN", "little_endian"]))
def test_numbers_from_bytes(fours, eights, order):
    check("INT_FROM_BYTES", pa.array(fours, pa.binary()), pa.scalar(order))
    check("BIGINT_FROM_BYTES", pa.array(eights, pa.binary()))
    fast, slow = both("DOUBLE_FROM_BYTES", [pa.array(eights, pa.binary()), pa.scalar(order)])
    assert [repr(x) for x in fast] == [repr(x) for x in slow]  # NaNs too


@SETTINGS
@given(st.lists(st.none() | st.integers(-5, 0x10FFFF + 5), min_size=1, max_size=6),
       st.lists(st.none() | st.lists(st.none() | TEXT, max_size=4), min_size=1, max_size=6),
       st.sampled_from(["", "-", ", "]))
def test_chr_and_array_join(codes, lists, delimiter):
    check("CHR", pa.array(codes, pa.int32()))
    check("ARRAY_JOIN", pa.array(lists, pa.list_(pa.string())), pa.scalar(delimiter))
    check("ARRAY_JOIN", pa.array(lists, pa.list_(pa.string())))


@SETTINGS
@given(st.lists(st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1.0, 0.001, 1e7, -0.0]),
                min_size=1, max_size=8))
def test_doubles_print_as_java_does(numbers):
    from ksql.runtime.expressions.casts import _java_double_strings
    from ksql.planner.values import java_double

    assert _java_double_strings(pa.array(numbers, pa.float64())).to_pylist() == \
        [None if x is None else java_double(x) for x in numbers]


@pytest.mark.parametrize("number,text", [
    (5e-324, "4.9E-324"), (-5e-324, "-4.9E-324"),  # Double.MIN_VALUE: two digits, the nearer pair
    (1e-5, "1.0E-5"), (1e23, "1.0E23"), (1.7976931348623157e308, "1.7976931348623157E308"),
    (1e7, "1.0E7"), (0.001, "0.001"), (123.5, "123.5"), (5.0, "5.0")])
def test_doubles_print_as_javas_double_to_string(number, text):
    from ksql.planner.values import java_double

    assert java_double(number) == text


@SETTINGS
@given(st.lists(st.tuples(st.none() | st.lists(st.tuples(st.sampled_from("abc"), INTS), max_size=4),
                          st.none() | st.sampled_from("abd")), min_size=1, max_size=6))
def test_map_lookup(rows):
    from ksql.runtime.expressions.kernels import map_lookup

    maps = pa.array([r[0] for r in rows], pa.map_(pa.string(), pa.int32()))
    keys = pa.array([r[1] for r in rows], pa.string())
    expected = []
    for entries, key in rows:
        value = None
        for k, v in entries or []:
            if key is not None and k == key:
                value = v
        expected.append(value)
    assert map_lookup(maps, keys).to_pylist() == expected
    assert map_lookup(maps.slice(1), keys.slice(1)).to_pylist() == expected[1:]  # offsets of a slice


@SETTINGS
@given(st.lists(st.tuples(INTS, INTS, st.none() | st.integers(-3, 3)), min_size=1, max_size=6))
def test_generate_series(rows):
    columns = [pa.array([r[i] for r in rows], pa.int32()) for i in range(3)]
    check("GENERATE_SERIES", columns[0], columns[1])
    if all(r[2] != 0 for r in rows):
        check("GENERATE_SERIES", *columns)


@SETTINGS
@given(st.lists(st.none() | st.sampled_from(["a:1/b:2", "a:1//b:2/", "a:1/a:3", "x", "", "k:v:w/z:"]), min_size=1,
                max_size=6), st.sampled_from(["/", "&&", ""]), st.sampled_from([":", "="]),
       st.lists(st.none() | st.binary(min_size=15, max_size=17), min_size=1, max_size=4))
def test_maps_from_text_and_uuids(items, entry, kv, blobs):
    check("SPLIT_TO_MAP", strings(items), pa.scalar(entry), pa.scalar(kv))
    check("UUID", pa.array(blobs, pa.binary()))
    check("ENCODE", strings(["QUJD", "00ff", None, "héllo"]), pa.scalar("base64" if entry else "utf8"),
          pa.scalar("hex"))


@SETTINGS
@given(st.lists(st.none() | st.dictionaries(st.sampled_from("cab"), INTS, max_size=3), min_size=1, max_size=6),
       st.booleans(), st.lists(st.none() | JSON, min_size=1, max_size=6))
def test_entries_and_json_items(maps, ordered, documents):
    m = pa.array([None if d is None else list(d.items()) for d in maps], pa.map_(pa.string(), pa.int32()))
    check("ENTRIES", m, pa.scalar(ordered))
    check("ENTRIES", m.slice(1), pa.scalar(ordered))
    check("JSON_ITEMS", strings(documents))


def test_a_decimal_becomes_the_nearest_double():
    # BigDecimal.doubleValue: 13.54 is 13.54 (Arrow's own cast gave 13.540000000000001)
    from decimal import Decimal

    from ksql.planner import types as T
    from ksql.runtime.expressions.casts import cast_kernel

    values = pa.array([Decimal("13.54"), Decimal("10.56"), Decimal("-0.07"), None], pa.decimal128(4, 2))
    assert cast_kernel(T.decimal(4, 2), T.DOUBLE)(values).to_pylist() == [13.54, 10.56, -0.07, None]
