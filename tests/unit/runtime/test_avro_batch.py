"""AVRO values read a batch at a time (runtime/formats/avro_batch.py) give exactly what reading
them one record at a time gives, bad records included."""
import io
import json
import struct
from decimal import Decimal

import fastavro
import pyarrow as pa
import pytest

from ksql.engine import KsqlEngine
from ksql.planner import types as T
from ksql.planner.schema import VALUE, Column
from ksql.runtime.formats.avro import AvroFormat

SCHEMA = {"type": "record", "name": "Bid", "fields": [
    {"name": "auction", "type": "long"},  # names in any case: matched to the columns as ksqlDB does
    {"name": "PRICE", "type": ["null", "long"]},
    {"name": "CHANNEL", "type": ["string", "null"]},
    {"name": "SEEN", "type": ["null", "boolean"]},
    {"name": "RATE", "type": ["null", "double"]},
    {"name": "N", "type": ["null", "int"]},
    {"name": "EXTRA", "type": ["null", "float"]},  # read past: no column takes it
]}
COLUMNS = [Column("AUCTION", T.BIGINT, VALUE), Column("PRICE", T.BIGINT, VALUE), Column("CHANNEL", T.STRING, VALUE),
           Column("SEEN", T.BOOLEAN, VALUE), Column("RATE", T.DOUBLE, VALUE), Column("N", T.INTEGER, VALUE),
           Column("MISSING", T.STRING, VALUE)]
ROWS = [
    {"auction": 0, "PRICE": None, "CHANNEL": "", "SEEN": None, "RATE": None, "N": None, "EXTRA": None},
    {"auction": -1, "PRICE": 2**63 - 1, "CHANNEL": "zürich ✓", "SEEN": True, "RATE": -0.5, "N": -2**31, "EXTRA": 1.5},
    {"auction": 2**40, "PRICE": -2**63, "CHANNEL": None, "SEEN": False, "RATE": 1e300, "N": 2**31 - 1, "EXTRA": 0.0},
    {"auction": 63, "PRICE": 64, "CHANNEL": "x" * 200, "SEEN": True, "RATE": 0.0, "N": 8191, "EXTRA": None},
]


@pytest.fixture
def avro(tmp_path):
    engine = KsqlEngine(str(tmp_path), background=False)  # installs its schema registry
    schema_id = engine.schema_registry.register("bids-value", json.dumps(SCHEMA))
    yield AvroFormat(COLUMNS, key=False, topic="bids"), schema_id
    engine.close()


def payload(schema_id: int, row: dict, schema=SCHEMA) -> bytes:
    buffer = io.BytesIO()
    buffer.write(struct.pack(">bi", 0, schema_id))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), row)
    return buffer.getvalue()


def test_a_batch_reads_as_its_records_do(avro):
    fmt, schema_id = avro
    payloads = [payload(schema_id, row) for row in ROWS] + [None]  # (a null value: an empty row)
    batch = pa.array(payloads, pa.binary())
    assert fmt._decode_batch(batch) is not None  # the batch path took it
    arrays, bad = fmt.decode_array(batch)
    expected, expected_bad = fmt.decode(payloads)
    assert bad == expected_bad == {}
    assert [a.to_pylist() for a in arrays] == [a.to_pylist() for a in expected]
    assert [a.type for a in arrays] == [a.type for a in expected]
    assert arrays[2].to_pylist() == ["", "zürich ✓", None, "x" * 200, None]


def test_a_damaged_record_is_read_on_its_own(avro):
    fmt, schema_id = avro
    good = [payload(schema_id, row) for row in ROWS]
    for damaged in (good[1] + b"\x00",  # a byte too many: the records after it would shift
                    good[1][:-3],  # cut short
                    b"\x01" + good[1][1:],  # not Confluent's magic byte
                    good[1][:1] + struct.pack(">i", 999) + good[1][5:]):  # an unknown schema
        payloads = good[:1] + [damaged] + good[2:]
        batch = pa.array(payloads, pa.binary())
        assert fmt._decode_batch(batch) is None
        arrays, bad = fmt.decode_array(batch)
        expected, expected_bad = fmt.decode(payloads)
        assert bad == expected_bad
        assert [a.to_pylist() for a in arrays] == [a.to_pylist() for a in expected]
        assert arrays[0].to_pylist()[2:] == [2**40, 63]  # the records after it are read as written


def test_other_shapes_are_read_record_by_record(avro):
    fmt, schema_id = avro
    dated = {"type": "record", "name": "Bid", "fields": [
        {"name": "AUCTION", "type": {"type": "int", "logicalType": "date"}}]}
    other_id = fmt_registry_register(fmt, dated)
    mixed = [payload(schema_id, ROWS[0]), payload(other_id, {"AUCTION": 3}, dated)]
    for payloads in (mixed, mixed[1:]):
        batch = pa.array(payloads, pa.binary())
        assert fmt._decode_batch(batch) is None
        assert [a.to_pylist() for a in fmt.decode_array(batch)[0]] == [a.to_pylist() for a in fmt.decode(payloads)[0]]


def fmt_registry_register(fmt, schema) -> int:
    from ksql.runtime.formats import schema_registry
    return schema_registry.current().register("other-value", json.dumps(schema))


def test_a_batch_is_written_byte_for_byte_as_its_records_are(avro):
    from datetime import date, datetime, time

    columns = [Column("B", T.BOOLEAN, VALUE), Column("I", T.INTEGER, VALUE), Column("L", T.BIGINT, VALUE),
               Column("D", T.DOUBLE, VALUE), Column("S", T.STRING, VALUE), Column("BY", T.BYTES, VALUE),
               Column("TS", T.TIMESTAMP, VALUE), Column("DT", T.DATE, VALUE), Column("TM", T.TIME, VALUE),
               Column("SMALL", T.decimal(4, 2), VALUE), Column("WIDE", T.decimal(23, 3), VALUE)]
    values = [[True, False, None, True],
              [0, -1, None, 2**31 - 1],
              [2**63 - 1, -2**63, None, 64],
              [0.0, -1.5, None, 1e300],
              ["", "zürich ✓", None, "x" * 300],
              [b"", b"\x00\xff", None, b"y" * 128],
              [datetime(1970, 1, 1), datetime(1969, 12, 31, 23, 59, 59, 999000), None, datetime(2024, 1, 2, 3, 4, 5)],
              [date(1970, 1, 1), date(1900, 3, 1), None, date(2100, 12, 31)],
              [time(0, 0), time(23, 59, 59, 999000), None, time(12, 0, 0, 1000)],
              [Decimal("0.00"), Decimal("-1.28"), None, Decimal("99.99")],  # -128 unscaled: two bytes, as fastavro
              [Decimal("127.000"), Decimal("-9223372036854775.807"), None, Decimal("32768.001")]]
    arrays = [pa.array(v, T.to_arrow(c.type)) for v, c in zip(values, columns)]
    for fmt in (AvroFormat(columns, key=False, topic="out"), AvroFormat(columns[4:5], key=True, topic="out")):
        given = arrays if len(fmt.columns) > 1 else arrays[4:5]
        expected = fmt.encode(given, 4)
        record_path, fmt.encode = fmt.encode, None  # the batch path must not need the record path
        written = fmt.encode_array(given, 4)
        fmt.encode = record_path
        assert written.to_pylist() == expected
        assert [a.to_pylist() for a in fmt.decode(written.to_pylist())[0]] == [a.to_pylist() for a in given]
    # read back a batch at a time too: the primitives and the temporal types (decimals go record by record)
    temporal = AvroFormat(columns[:9], key=False, topic="temporal")
    payloads = temporal.encode_array(arrays[:9], 4)
    assert temporal._decode_batch(payloads) is not None
    batch_read, bad = temporal.decode_array(payloads)
    assert bad == {} and [a.to_pylist() for a in batch_read] == [a.to_pylist() for a in arrays[:9]]
    assert [a.type for a in batch_read] == [a.type for a in arrays[:9]]


def test_a_child_forked_after_polars_ran_reads_record_by_record(avro):
    """polars' threads do not survive fork: a forked child of a process that used it would
    wait for them forever, so it reads and writes without polars, with the same results."""
    import os
    import signal

    from ksql.runtime.formats import native

    fmt, schema_id = avro
    payloads = [payload(schema_id, row) for row in ROWS]
    batch = pa.array(payloads, pa.binary())
    expected = [a.to_pylist() for a in fmt.decode_array(batch)[0]]  # (polars used here)
    assert native.polars() is not None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.alarm(30)  # a hang fails the test instead of stalling it
        os.close(read)
        answer = b"unusable" if native.polars() is None and fmt._decode_batch(batch) is None else b"usable"
        answer += b" same" if [a.to_pylist() for a in fmt.decode_array(batch)[0]] == expected else b" different"
        os.write(write, answer)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    assert answer == b"unusable same"


def test_decimals_past_64_bits_are_written_record_by_record(avro):
    columns = [Column("WIDE", T.decimal(30, 0), VALUE)]
    fmt = AvroFormat(columns, key=False, topic="wide")
    wide = pa.array([Decimal(1), Decimal(2**70), None], pa.decimal128(30, 0))
    assert fmt.encode_array([wide], 3).to_pylist() == fmt.encode([wide], 3)


def test_dates_python_cannot_hold_are_read_record_by_record(avro):
    """A DATE of -2147483647 days (as a ksqlDB test writes) fits Arrow but not Python's date:
    the record path sends it to the processing log, and so the batch path leaves it to it."""
    fmt = AvroFormat([Column("VALUE", T.DATE, VALUE)], key=False, topic="dates")
    schema = {"type": "record", "name": "R", "fields": [
        {"name": "VALUE", "type": ["null", {"type": "int", "logicalType": "date"}]}]}
    from ksql.runtime.formats import schema_registry
    schema_id = schema_registry.current().register("dates-value", json.dumps(schema))
    raw = {"type": "record", "name": "R", "fields": [{"name": "VALUE", "type": ["null", "int"]}]}
    payloads = [payload(schema_id, {"VALUE": days}, raw) for days in (5, -2147483647)]
    batch = pa.array(payloads, pa.binary())
    assert fmt._decode_batch(batch) is None
    arrays, bad = fmt.decode_array(batch)
    assert list(bad) == [1] and arrays[0].to_pylist()[0].isoformat() == "1970-01-06"
