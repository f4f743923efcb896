from decimal import Decimal

import orjson
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ksql.errors import KsqlStatementError
from ksql.planner import types as T
from ksql.planner.schema import KEY, Column
from ksql.runtime.formats.make import make_format

COLUMNS = (Column("ID", T.INTEGER), Column("NAME", T.STRING), Column("PRICE", T.decimal(4, 2)),
           Column("TAGS", T.array(T.STRING)), Column("TS", T.TIMESTAMP))


def test_json_decodes_case_insensitive_fields_and_missing_as_null():
    fmt = make_format("JSON", COLUMNS, key=False)
    payloads = [b'{"id": 1, "Name": "a", "price": 1.5, "tags": ["x"], "ts": 1000}', b'{"ID": 2}', None]
    arrays, bad = fmt.decode(payloads)
    assert bad == {}
    assert arrays[0].to_pylist() == [1, 2, None]
    assert arrays[1].to_pylist() == ["a", None, None]
    assert arrays[2].to_pylist() == [Decimal("1.50"), None, None]
    assert arrays[3].to_pylist() == [["x"], None, None]
    assert arrays[4].cast(pa.int64()).to_pylist() == [1000, None, None]


def test_json_reports_bad_records_by_row():
    fmt = make_format("JSON", COLUMNS, key=False)
    arrays, bad = fmt.decode([b'{"id": 1}', b"{not json", b'{"id": "x"}'])
    assert sorted(bad) == [1, 2]
    assert "Failed to deserialize JSON" in bad[1]
    assert bad[2] == "Can't coerce string to type. targetType: INTEGER"
    assert arrays[0].to_pylist() == [1, None, None]


def test_json_roundtrip():
    fmt = make_format("JSON", COLUMNS, key=False)
    payloads = [b'{"ID":1,"NAME":"a","PRICE":1.5,"TAGS":["x"],"TS":1000}']
    arrays, _ = fmt.decode(payloads)
    assert orjson.loads(fmt.encode(arrays, 1)[0]) == {"ID": 1, "NAME": "a", "PRICE": 1.5,
                                                        "TAGS": ["x"], "TS": 1000}


def test_json_single_key_is_unwrapped_single_value_wrapped():
    key = make_format("JSON", (Column("K", T.STRING, KEY),), key=True)
    assert key.encode([pa.array(["a"])], 1) == [b'"a"']
    value = make_format("JSON", (Column("V", T.INTEGER),), key=False)
    assert value.encode([pa.array([1], pa.int32())], 1) == [b'{"V":1}']
    bare = make_format("JSON", (Column("V", T.INTEGER),), key=False, options={"wrap_single_value": False})
    assert bare.encode([pa.array([1], pa.int32())], 1) == [b"1"]
    assert bare.decode([b"5"])[0][0].to_pylist() == [5]


def test_kafka_format_matches_java_serializers():
    ints = make_format("KAFKA", (Column("K", T.INTEGER, KEY),), key=True)
    assert ints.encode([pa.array([1, None, -2], pa.int32())], 3) == [b"\x00\x00\x00\x01", None,
                                                                      b"\xff\xff\xff\xfe"]
    arrays, bad = ints.decode([b"\x00\x00\x00\x01", None, b"\x01"])
    assert arrays[0].to_pylist() == [1, None, None]
    assert list(bad) == [2]
    longs = make_format("KAFKA", (Column("K", T.BIGINT, KEY),), key=True)
    assert longs.decode([(5).to_bytes(8, "big")])[0][0].to_pylist() == [5]
    doubles = make_format("KAFKA", (Column("K", T.DOUBLE, KEY),), key=True)
    assert doubles.decode(doubles.encode([pa.array([1.5])], 1))[0][0].to_pylist() == [1.5]
    strings = make_format("KAFKA", (Column("K", T.STRING, KEY),), key=True)
    assert strings.encode([pa.array(["é"])], 1) == ["é".encode()]


def test_kafka_format_rejects_several_columns():
    with pytest.raises(KsqlStatementError, match="only supports a single field"):
        make_format("KAFKA", COLUMNS[:2], key=False)


def test_delimited_roundtrip_and_errors():
    fmt = make_format("DELIMITED", COLUMNS[:3], key=False)
    arrays, bad = fmt.decode([b"1,hello,2.50", b"2,,", b"1,2", b"x,a,1"])
    assert sorted(bad) == [2, 3]
    assert arrays[0].to_pylist() == [1, 2, None, None]
    assert arrays[1].to_pylist() == ["hello", None, None, None]
    assert fmt.encode([a.slice(0, 2) for a in arrays], 2) == [b"1,hello,2.50", b"2,,"]


def test_delimited_custom_delimiter():
    fmt = make_format("DELIMITED", COLUMNS[:2], key=False, options={"delimiter": "TAB"})
    arrays, bad = fmt.decode([b"1\tx"])
    assert (arrays[0].to_pylist(), arrays[1].to_pylist(), bad) == ([1], ["x"], {})


def test_delimited_rejects_complex_types():
    with pytest.raises(KsqlStatementError, match="does not support type 'ARRAY'"):
        make_format("DELIMITED", COLUMNS, key=False)


def _json_columns():
    from ksql.planner import types as T
    from ksql.planner.schema import VALUE, Column

    return [Column("A", T.INTEGER, VALUE), Column("S", T.STRING, VALUE), Column("D", T.DOUBLE, VALUE),
            Column("B", T.BOOLEAN, VALUE), Column("L", T.BIGINT, VALUE)]


def _same_as_record_path(payloads):
    """The batch path's columns and errors are the record path's, record for record."""
    from ksql.runtime.formats.make import make_format

    fmt = make_format("JSON", _json_columns(), key=False, options={})
    arrays, errors = fmt.decode_array(pa.array(payloads, pa.binary()))
    expected_arrays, expected_errors = fmt.decode(payloads)
    assert [_nan_free(a.to_pylist()) for a in arrays] == [_nan_free(a.to_pylist()) for a in expected_arrays]
    assert errors == expected_errors


def _nan_free(values: list) -> list:
    """NaN as text: two NaNs are equal here ("NaN" reads as one), though not as floats."""
    return ["NaN" if isinstance(v, float) and v != v else v for v in values]


def test_json_objects_read_a_batch_at_a_time_match_the_record_reader():
    from ksql.runtime.formats.json_batch import ObjectDecoder

    batches = [
        [b'{"a": 1, "s": "x", "d": 2, "b": true}', None, b'{"a": 3, "extra": [1]}', b'{}'],
        [b'{"a": 1}', b'{"A": 2}'],                              # one field spelled two ways
        [b'{"a": "7", "s": 5, "d": 1.5, "b": "false"}'],          # JSON types the row reader converts
        [b'{"a": 99999999999}', b'{"d": true}', b'{"s": "ok"}'],   # errors for some records only
        [b'{"a": 1, "A": 2}', b'[1, 2]', b'not json', b'{"a": 1.9}'],
        [b'{"s": "2024-01-01T00:00:00"}', b'{"s": "2024-01-01"}'],  # strings the reader could take for times
        [b'{"a":\n1}', b'', b'  ', b'null', b'{"a": 1}\r'],      # line breaks, blanks, a bare null
        [b'{"a": 1, "a": 2}', b'{"l": -9223372036854775808, "a": 2147483647}'],
        [b'{"S": "caf\xc3\xa9 \\u00e9 \\"q\\""}', b'{"b": null, "s": null}'],
    ]
    for payloads in batches:
        _same_as_record_path(payloads)
    columns = _json_columns()
    decoder = ObjectDecoder(columns)
    assert decoder.decode(pa.array(batches[0], pa.binary())) is not None  # plain objects: the batch path
    assert decoder.spellings == {"A": "a", "S": "s", "D": "d", "B": "b"}  # as the first record spells them
    dates = ObjectDecoder(columns)
    arrays = dates.decode(pa.array(batches[5], pa.binary()))  # told S is a string, the reader keeps it one
    assert arrays is not None and arrays[1].to_pylist() == ["2024-01-01T00:00:00", "2024-01-01"]
    assert decoder.decode(pa.array(batches[1], pa.binary())) is None  # two spellings: record by record


def test_json_payloads_with_a_line_break_go_to_the_record_path_and_only_those():
    from ksql.runtime.formats.json_batch import _lines

    payloads = pa.array([b'{"a":\n1}', b'{"a": 2}', None, b'{"a": 3}', b'{"a": 4}\r'], pa.binary())
    assert _lines(payloads) is None
    assert _lines(payloads.slice(4)) is None  # a \r
    assert _lines(payloads.slice(0, 1)) is None
    middle = _lines(payloads.slice(1, 3))  # the line breaks are outside the slice
    assert middle is not None and middle.to_pybytes() == b'{"a": 2}\n{}\n{"a": 3}'
    assert _lines(pa.array([b"", b""], pa.binary())).to_pybytes() == b"\n"


def test_json_columns_nobody_reads_come_back_null_once_their_values_are_checked():
    from ksql.runtime.formats.json_batch import ObjectDecoder

    decoder = ObjectDecoder(_json_columns())
    decoder.unread = frozenset({"S", "L"})
    arrays = decoder.decode(pa.array([b'{"a": 1, "s": "x", "l": 5}', b'{"a": 2, "l": 7}'], pa.binary()))
    assert [a.to_pylist() for a in arrays] == [[1, 2], [None, None], [None, None], [None, None], [None, None]]
    # a value an unread column cannot hold still sends the batch to the record path
    assert decoder.decode(pa.array([b'{"a": 1, "l": "x"}'], pa.binary())) is None
    assert decoder.decode(pa.array([b'{"a": 1, "s": 5}'], pa.binary())) is None


def test_a_query_reading_some_columns_still_refuses_records_with_bad_values_in_the_others(tmp_path):
    import json

    from conftest import topic_records
    from ksql.engine import KsqlEngine
    from ksql.runtime.log.embedded import make_records

    engine = KsqlEngine(str(tmp_path), background=False)
    try:
        engine.session.properties["auto.offset.reset"] = "earliest"
        engine.execute("CREATE STREAM s (a INT, b INT, c STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
        values = [b'{"a": 1, "b": 2, "c": "x"}', b'{"a": 2, "b": "bad"}', b'{"A": 3, "B": 4}',
                  b'{"a": 4, "b": 99999999999}', b'{"a": 5, "c": 6}', b'{"a": 6, "c": [1]}']
        engine.log.append("s", 0, make_records([None] * len(values), values, list(range(len(values)))))
        engine.execute("CREATE STREAM out AS SELECT a FROM s;")
        engine.drain()
        rows = [json.loads(v) for _, _, v, _ in topic_records(engine.log, "OUT")]
        # "bad" and 99999999999 are no INT; a number or a list is read as a STRING (its JSON text)
        assert rows == [{"A": 1}, {"A": 3}, {"A": 5}, {"A": 6}]
        (query,) = engine.queries.values()
        assert query.pipeline.decoder.value_format.batch_decoder.unread == {"B", "C"}
    finally:
        engine.close()


_JSON_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False,
                        allow_infinity=False), st.text(max_size=8), st.lists(st.integers(-9, 9), max_size=2))


@given(st.lists(st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["a", "A", "s", "d", "D", "b", "l", "other"]), _JSON_VALUE, max_size=5)), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_json_batch_path_agrees_with_the_record_path_on_any_objects(documents):
    import orjson

    _same_as_record_path([None if d is None else orjson.dumps(d) for d in documents])


def test_json_batches_polars_reads_give_the_record_paths_values():
    """Records holding every column, which polars reads: where it would write a JSON number,
    object or array into a STRING column as text of its own (3.0 as "3"), the record path's text
    comes back instead."""
    whole = b'{"a": 1, "s": %s, "d": %s, "b": true, "l": 5}'
    for s_value in (b'"x"', b"3.0", b"1e20", b"-0.5", b"12345678901234567890123", b'{"x": [1, "y"]}',
                    b'["a", 2]', b"[]", b"true", b"7", b'"12"', b'"a\\"q\\""', b'"2024-01-01 00:00:00"'):
        for d_value in (b"1", b"2.5", b"1e300", b"-0.0"):
            _same_as_record_path([whole % (s_value, d_value), whole % (b'"plain"', b"0")])
    _same_as_record_path([b'{"a": 1, "s": "x", "d": 1, "b": false, "L": 2}', b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 3}'])
    # a later record spelling a column twice: the first spelling written is the one read
    _same_as_record_path([b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 2}',
                          b'{"a": 1, "S": "first", "s": "second", "d": 1, "b": false, "l": 3}'])
    _same_as_record_path([b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 2, "other": {"k": 1}}'])
    # nulls written as such, and a field missing where another record has one too many
    _same_as_record_path([b'{"a":null,"s":null,"d":null,"b":null,"l":null}', b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 2}'])
    _same_as_record_path([b'{"a": 1, "s": "x", "d": 1, "b": false}', b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 2, "x": 3}'])
    _same_as_record_path([b'{"a": 1, "s": "x", "d": 1, "b": false, "l": 2}', b'{"a": 1, "S": "y", "d": 1, "b": false, "l": 2}'])


@given(st.lists(st.fixed_dictionaries({
    "a": st.integers(-2**31, 2**31 - 1),
    "s": st.one_of(st.text(), _JSON_VALUE, st.dictionaries(st.text(max_size=3), _JSON_VALUE, max_size=2),
                   st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True)),
    "d": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**60, 2**60)),
    "b": st.one_of(st.none(), st.booleans()), "l": st.one_of(st.none(), st.integers(-2**63, 2**63 - 1))}),
    min_size=1, max_size=8))
@settings(max_examples=300, deadline=None)
def test_json_batch_path_agrees_with_the_record_path_when_every_field_is_there(documents):
    import orjson

    _same_as_record_path([orjson.dumps(d) for d in documents])


# Any bytes at all, as a record's value: each format answers with values or a per-record error,
# never an exception for the batch.
_HOSTILE = st.one_of(
    st.binary(max_size=64),
    st.just(b"[" * 5000 + b"]" * 5000),                           # deep nesting
    st.just(b'{"A": "\xff\xfe"}'),                                  # invalid UTF-8
    st.just(b'{"A": ' + b"9" * 400 + b"}"),                        # a huge number
    st.builds(lambda n: b'{"A": "' + b"x" * n + b'"}', st.integers(0, 100_000)),
    st.sampled_from([b"null", b"true", b"[]", b"{}", b'"x"', b"1e999", b'{"a": {"b": [1, {"c": null}]}}']),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _HOSTILE), min_size=1, max_size=8),
       st.sampled_from(["JSON", "DELIMITED", "KAFKA", "AVRO", "JSON_SR", "PROTOBUF", "PROTOBUF_NOSR"]))
@example([b"\r\x00"], "DELIMITED")  # a line break the csv reader refuses
@example([b"\x02\x80\x80\x80\x80@"], "AVRO")  # an Avro int of 2**33, after the wire-format header
def test_hostile_values_give_values_or_record_errors(payloads, format_name):
    from ksql.planner import types as T
    from ksql.planner.schema import VALUE, Column
    from ksql.runtime.formats.make import make_format

    if format_name in ("AVRO", "JSON_SR", "PROTOBUF"):
        # bytes that look like the wire format too: magic byte, a schema id the registry has
        from ksql.runtime.formats import schema_registry

        schema_registry.install(_registry_with_schemas())
        header = b"\0\0\0\0\2" if format_name == "PROTOBUF" else b"\0\0\0\0\1"
        payloads = [p if p is None or i % 2 else header + p for i, p in enumerate(payloads)]
    if format_name == "KAFKA":
        columns = [Column("A", T.BIGINT, VALUE)]
    elif format_name in ("DELIMITED", "PROTOBUF", "PROTOBUF_NOSR"):
        columns = [Column("A", T.INTEGER, VALUE), Column("B", T.STRING, VALUE), Column("C", T.DOUBLE, VALUE)]
    else:
        columns = [Column("A", T.INTEGER, VALUE), Column("B", T.STRING, VALUE),
                   Column("C", T.array(T.map_of(T.STRING, T.DOUBLE)), VALUE), Column("D", T.decimal(4, 2), VALUE)]
    arrays, errors = make_format(format_name, columns, key=False, options={}).decode(payloads)
    assert len(arrays) == len(columns) and all(len(a) == len(payloads) for a in arrays)
    assert set(errors) <= set(range(len(payloads)))
    assert all(isinstance(reason, str) and reason for reason in errors.values())


_REGISTRY = []


def _registry_with_schemas():
    """An embedded registry with an Avro schema (id 1) and a protobuf one (id 2)."""
    if not _REGISTRY:
        import tempfile

        from ksql.runtime.log.embedded import EmbeddedLog
        from ksql.runtime.formats.schema_registry import EmbeddedRegistry

        registry = EmbeddedRegistry(EmbeddedLog(tempfile.mkdtemp(prefix="ksql-serdes-")))
        registry.register("t-value", '{"type":"record","name":"R","fields":[{"name":"A","type":["null","int"]}]}')
        registry.register("p-value", 'syntax = "proto3"; message M { int32 A = 1; string B = 2; repeated M C = 3; }',
                          "PROTOBUF")
        _REGISTRY.append(registry)
    return _REGISTRY[0]


@given(st.lists(st.tuples(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
                          st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.integers(-2**31, 2**31 - 1)),
                          st.one_of(st.none(), st.floats()), st.one_of(st.none(), st.integers(-2**50, 2**50)),
                          st.one_of(st.none(), st.decimals(min_value=-10**7, max_value=10**7, places=4,
                                                           allow_nan=False))),
                min_size=1, max_size=20))
@settings(max_examples=200, deadline=None)
def test_json_objects_written_a_batch_at_a_time_are_what_the_record_writer_writes(rows):
    from ksql.planner.schema import VALUE

    columns = [Column("S", T.STRING, VALUE), Column("B", T.BIGINT, VALUE), Column("Flag", T.BOOLEAN, VALUE),
               Column("I", T.INTEGER, VALUE), Column("D", T.DOUBLE, VALUE), Column("T", T.TIMESTAMP, VALUE),
               Column("M", T.decimal(12, 4), VALUE)]
    fmt = make_format("JSON", columns, key=False, options={})
    arrays = [pa.array([r[i] for r in rows], pa.int64() if c.type.base == "TIMESTAMP" else T.to_arrow(c.type))
              for i, c in enumerate(columns)]
    arrays[5] = arrays[5].cast(T.to_arrow(T.TIMESTAMP))
    expected = fmt._encode_records(arrays, len(rows))
    assert fmt.encode_array(arrays, len(rows)).to_pylist() == expected
    assert fmt.encode(arrays, len(rows)) == expected
    assert expected[0] == orjson.dumps(dict(zip("S B Flag I D T M".split(), (
        rows[0][:4] + (_java_json_double(rows[0][4]), rows[0][5], None if rows[0][6] is None else float(rows[0][6]))))))


@given(st.lists(st.tuples(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-2**31, 2**31 - 1)))),
                          st.one_of(st.none(), st.lists(st.one_of(st.none(), st.text()))),
                          st.one_of(st.none(), st.lists(st.one_of(st.none(), st.booleans())))),
                min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_json_arrays_written_a_batch_at_a_time_are_what_the_record_writer_writes(rows):
    from ksql.planner.schema import VALUE

    columns = [Column("I", T.array(T.INTEGER), VALUE), Column("S", T.array(T.STRING), VALUE),
               Column("B", T.array(T.BOOLEAN), VALUE)]
    fmt = make_format("JSON", columns, key=False, options={})
    assert fmt.columnar_out
    arrays = [pa.array([r[i] for r in rows], T.to_arrow(c.type)) for i, c in enumerate(columns)]
    expected = fmt._encode_records(arrays, len(rows))
    assert fmt.encode_array(arrays, len(rows)).to_pylist() == expected
    assert orjson.loads(expected[0]) == dict(zip("ISB", rows[0]))


@given(st.lists(st.tuples(st.one_of(st.none(), st.dictionaries(st.text(), st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)))),
                          st.one_of(st.none(), st.text()),
                          st.one_of(st.none(), st.dictionaries(st.text(), st.one_of(st.none(), st.text()))),
                          st.one_of(st.none(), st.dictionaries(st.text(), st.one_of(st.none(), st.booleans())))),
                min_size=1, max_size=20), st.integers(0, 2))
@settings(max_examples=100, deadline=None)
def test_json_maps_written_a_batch_at_a_time_are_what_the_record_writer_writes(rows, cut):
    """MAP columns among others, in arrays cut from longer ones (as a batch's slices are)."""
    from ksql.planner.schema import VALUE

    columns = [Column("M", T.map_of(T.STRING, T.BIGINT), VALUE), Column("S", T.STRING, VALUE),
               Column("N", T.map_of(T.STRING, T.STRING), VALUE), Column("B", T.map_of(T.STRING, T.BOOLEAN), VALUE)]
    fmt = make_format("JSON", columns, key=False, options={})
    assert fmt.columnar_out
    padded = [rows[0]] * cut + rows + [rows[-1]] * cut
    arrays = [pa.array([None if r[i] is None else list(r[i].items()) if isinstance(r[i], dict) else r[i]
                        for r in padded], T.to_arrow(c.type)).slice(cut, len(rows)) for i, c in enumerate(columns)]
    expected = fmt._encode_records(arrays, len(rows))
    assert fmt.encode_array(arrays, len(rows)).to_pylist() == expected
    assert orjson.loads(expected[0]) == dict(zip("MSNB", rows[0]))


@given(st.sampled_from(["STRING", "BIGINT", "INTEGER", "BOOLEAN", "DOUBLE"]), st.data())
@settings(max_examples=100, deadline=None)
def test_a_lone_key_written_a_batch_at_a_time_is_what_the_record_writer_writes(type_name, data):
    """A single key column is written bare; the batch writer strips the object it writes."""
    values = {"STRING": st.text(), "BIGINT": st.integers(-2**63, 2**63 - 1), "INTEGER": st.integers(-2**31, 2**31 - 1),
              "BOOLEAN": st.booleans(), "DOUBLE": st.floats()}[type_name]
    rows = data.draw(st.lists(st.one_of(st.none(), values), min_size=1, max_size=20))
    sql_type = getattr(T, type_name)
    fmt = make_format("JSON", [Column("K\"ey", sql_type, KEY)], key=True, options={})
    array = pa.array(rows, T.to_arrow(sql_type))
    expected = fmt._encode_records([array], len(rows))
    assert fmt.encode_array([array], len(rows)).to_pylist() == expected
    assert expected[0] == (orjson.dumps(_java_json_double(rows[0]) if type_name == "DOUBLE" else rows[0]))


def _java_json_double(value):
    """How ksqlDB's JSON writes a DOUBLE: a number, or NaN and the infinities as strings."""
    import math

    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def test_json_sr_batches_strip_and_write_the_registry_header():
    import struct

    from ksql.planner.schema import VALUE
    from ksql.runtime.formats.json_sr import JsonSrFormat

    columns = [Column("ID", T.BIGINT, VALUE), Column("NAME", T.STRING, VALUE)]
    fmt = JsonSrFormat(columns, key=False, topic=None, schema_id=7)
    header = struct.pack(">bi", 0, 7)
    written = fmt.encode_array([pa.array([1, None], pa.int64()), pa.array(["a", "b"])], 2).to_pylist()
    assert written == [header + b'{"ID":1,"NAME":"a"}', header + b'{"ID":null,"NAME":"b"}']
    assert fmt.encode([pa.array([1, None], pa.int64()), pa.array(["a", "b"])], 2) == written
    with_nan = JsonSrFormat([Column("D", T.DOUBLE, VALUE)], key=False, topic=None, schema_id=7)
    assert with_nan.encode_array([pa.array([float("nan")])], 1).to_pylist() == [header + b'{"D":"NaN"}']
    assert with_nan.encode([pa.array([float("nan")])], 1) == [header + b'{"D":"NaN"}']
    arrays, errors = fmt.decode_array(pa.array(written + [None], pa.binary()))
    assert [a.to_pylist() for a in arrays] == [[1, None, None], ["a", "b", None]] and errors == {}
    for payloads in ([header + b'{"ID":1,"NAME":"a"}', header + b'{"ID":null,"NAME":"b"}'],
                     [header + b'{"ID": 10.0}', header + b'{"ID": 1.0000}']):
        assert fmt.decode_array(pa.array(payloads, pa.binary())) == fmt.decode(payloads)
    arrays, errors = fmt.decode_array(pa.array([header + b'{"ID": 2}', b'{"ID": 3}'], pa.binary()))
    assert arrays[0].to_pylist() == [2, None] and errors == {1: "Unknown magic byte!"}


@pytest.mark.parametrize("values, precision, scale", [
    (["13.54", "0.1", "-0.01", None, "99999.99"], 7, 2),  # 13.54: Arrow's direct cast misses it
    (["9007199254740991", "-9007199254740991", None], 16, 0),  # the largest integers a double holds
    (["9007199254740993", "1"], 19, 0),  # one past them: through the text
    (["1.2345678901234567890123", "0.0000000000000000000001"], 23, 22),
    (["123456789012345678901234567.8", None, "-1"], 38, 1),  # wider than 64 bits
])
def test_decimals_are_written_to_json_as_the_nearest_double(values, precision, scale):
    from ksql.runtime.expressions.casts import nearest_doubles

    decimals = pa.array([None if v is None else Decimal(v) for v in values], pa.decimal128(precision, scale))
    for array in (decimals, decimals.slice(1)):
        expected = [None if v is None else float(v) for v in array.to_pylist()]
        assert nearest_doubles(array).to_pylist() == expected


def test_text_is_read_as_javas_parsers_read_it():
    # Integer.parseInt, Double.parseDouble, Boolean.parseBoolean, java.util.Base64 and
    # DecimalUtil.ensureFit, as ksqlDB's DELIMITED deserializer calls them
    from ksql.runtime.formats import java_text

    assert java_text.parse_integer("+7", 32) == 7
    for refused in (" 7", "7 ", "7.0", "1_000", "2147483648", ""):
        with pytest.raises(ValueError, match="For input string"):
            java_text.parse_integer(refused, 32)
    assert java_text.parse_integer("2147483648", 64) == 2147483648
    assert java_text.parse_double(" 1.5 ") == 1.5
    assert java_text.parse_double("1d") == 1.0 and java_text.parse_double("-Infinity") == float("-inf")
    for refused in ("inf", "nan", "0x10", "1_0"):
        with pytest.raises(ValueError):
            java_text.parse_double(refused)
    assert [java_text.parse_boolean(t) for t in ("TRUE", "true", " true", "yes", "1")] == [True, True, False, False, False]
    assert java_text.parse_base64("ew==") == java_text.parse_base64("ew") == b"{"
    with pytest.raises(ValueError, match="Value is not a valid Base64 encoded string: a"):
        java_text.parse_base64("a")
    dec = T.decimal(4, 2)
    assert java_text.parse_decimal("01.5", dec) == Decimal("1.50") and java_text.parse_decimal("-2", dec) == Decimal("-2.00")
    with pytest.raises(ValueError, match=r"Cannot fit decimal '1.125' into DECIMAL\(4, 2\) without rounding. \(Requires 4,3\)"):
        java_text.parse_decimal("1.125", dec)
    with pytest.raises(ValueError, match=r"must round to an absolute value less than 10\^2. Got 100"):
        java_text.parse_decimal("100", dec)
    with pytest.raises(ValueError):
        java_text.parse_decimal(" 1", dec)


def test_json_decimal_that_needs_rounding_is_a_bad_record():
    json_format = make_format("JSON", (Column("E", T.decimal(4, 2)),), key=False)
    arrays, bad = json_format.decode([b'{"E": 1.5}', b'{"E": 1.125}', b'{"E": "2"}', b'{"E": 123.4}'])
    assert arrays[0].to_pylist() == [Decimal("1.50"), None, Decimal("2.00"), None]
    assert set(bad) == {1, 3} and "without rounding" in bad[1] and "Numeric field overflow" in bad[3]


def test_json_strings_and_numbers_are_coerced_as_ksqldbs_json_reader_does():
    # JsonSerdeUtils: Integer.parseInt / Double.parseDouble for a string, a BOOLEAN only from true
    # or false, a number's fraction cut off; the data types page: out of range is an error
    columns = (Column("I", T.INTEGER), Column("D", T.DOUBLE), Column("B", T.BOOLEAN))
    json_format = make_format("JSON", columns, key=False)
    payloads = [b'{"I": "5", "D": " 2.5 ", "B": true}', b'{"I": " 5"}', b'{"I": 1.9}', b'{"B": "true"}',
                b'{"I": 2147483648}']
    for arrays, bad in (json_format.decode(payloads), json_format.decode_array(pa.array(payloads, pa.binary()))):
        assert [a.to_pylist() for a in arrays] == [[5, None, 1, None, None], [2.5, None, None, None, None],
                                                   [True, None, None, None, None]]
        assert bad == {1: "Can't coerce string to type. targetType: INTEGER",
                       3: "Can't convert type. sourceType: TextNode, requiredType: BOOLEAN",
                       4: "Value 2147483648 is out of range for INTEGER"}


def test_kafka_strings_that_are_not_utf8_read_as_replacement_characters():
    # as Kafka's StringDeserializer reads them: no error, U+FFFD for each bad byte
    kafka = make_format("KAFKA", (Column("K", T.STRING),), key=True)
    for arrays, bad in (kafka.decode([b"ok", b"a\xff\xfeb"]), kafka.decode_array(pa.array([b"ok", b"a\xff\xfeb"]))):
        assert arrays[0].to_pylist() == ["ok", "a\ufffd\ufffdb"] and bad == {}
