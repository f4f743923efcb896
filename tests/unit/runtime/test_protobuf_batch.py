"""PROTOBUF values written a batch at a time (runtime/formats/protobuf_batch.py) are byte for
byte what the protobuf runtime writes one record at a time, and read back as the values."""
import pyarrow as pa
import pytest

from ksql.engine import KsqlEngine
from ksql.planner import types as T
from ksql.planner.schema import VALUE, Column
from ksql.runtime.formats.protobuf import ProtobufFormat

COLUMNS = [Column("AUCTION", T.BIGINT, VALUE), Column("N", T.INTEGER, VALUE), Column("CHANNEL", T.STRING, VALUE),
           Column("SEEN", T.BOOLEAN, VALUE), Column("RATE", T.DOUBLE, VALUE)]
ROWS = [
    (0, 0, "", False, 0.0),  # every field at its default: an empty message
    (None, None, None, None, None),  # NULL is the default in proto3
    (-1, -2**31, "zürich ✓", True, -0.5),  # negative numbers take ten bytes
    (2**63 - 1, 2**31 - 1, "x" * 200, True, 1e300),  # a two-byte length
    (-2**63, 127, "a", None, float("nan")),
    (128, 128, "\x00", False, float("-inf")),
    (2**40, -1, "é" * 70, True, 5e-324),
]


@pytest.fixture(params=[True, False], ids=["PROTOBUF", "PROTOBUF_NOSR"])
def formats(tmp_path, request):
    engine = KsqlEngine(str(tmp_path), background=False)  # installs its schema registry
    yield (ProtobufFormat(COLUMNS, key=False, topic="bids", registry=request.param),
           ProtobufFormat(COLUMNS, key=False, topic="bids", registry=request.param))
    engine.close()


def arrays(rows):
    return [pa.array([row[i] for row in rows], T.to_arrow(c.type)) for i, c in enumerate(COLUMNS)]


def test_batch_writes_what_the_record_path_writes(formats):
    batch, records = formats
    written = batch.encode_array(arrays(ROWS), len(ROWS))
    assert written.to_pylist() == records.encode(arrays(ROWS), len(ROWS))
    decoded, errors = records.decode(written.to_pylist())
    assert not errors
    defaults = (0, 0, "", False, 0.0)
    for i, column in enumerate(decoded):
        expected = [defaults[i] if row[i] is None else row[i] for row in ROWS]
        got = column.to_pylist()
        if i == 4:  # NaN is not equal to itself
            assert [str(v) for v in got] == [str(v) for v in expected]
        else:
            assert got == expected


def test_negative_zero_goes_the_record_path_way(formats):
    batch, records = formats
    values = arrays([(1, 1, "a", True, -0.0)])
    assert batch.encode_array(values, 1).to_pylist() == records.encode(values, 1)


def read_both(batch, records, payloads: list):
    """(what the batch reader gives, what the record reader gives) for these payloads, as
    Python values and errors by row."""
    arrays, errors = batch.decode_array(pa.array(payloads, pa.binary()))
    expected, expected_errors = records.decode(payloads)
    assert [a.type for a in arrays] == [a.type for a in expected]
    return ([a.to_pylist() for a in arrays], errors), ([a.to_pylist() for a in expected], expected_errors)


def test_batch_reads_what_the_record_path_reads(formats):
    batch, records = formats
    rows = [r for r in ROWS if r[4] == r[4]]  # (NaN compares unequal in the lists)
    payloads = records.encode(arrays(rows), len(rows))
    payloads.insert(2, None)  # a record without a value: a row of nulls
    got, expected = read_both(batch, records, payloads)
    assert got == expected
    assert batch._decode_batch(pa.array(payloads, pa.binary())) is not None  # the batch path read them


@pytest.mark.parametrize("damage", ["truncated", "not UTF-8"])
def test_damaged_records_go_the_record_path_way(formats, damage):
    batch, records = formats
    payloads = records.encode(arrays(ROWS[2:4]), 2)
    good = payloads[0]
    if damage == "truncated":
        payloads[1] = payloads[1][:-3]
    else:
        payloads[1] = payloads[1].replace("x".encode() * 200, b"\xff" * 200)
    got, expected = read_both(batch, records, payloads)
    assert got == expected
    assert set(expected[1]) == {1}  # the record path reports the damaged record and reads the other
    assert got[0][0][0] == -1 and good


WRITER = """syntax = "proto3";

message Bid {
  string channel = 1;
  Inner other = 2;
  int64 auction = 3;
  repeated int32 numbers = 4;
  float ratio = 5;
  message Inner { int32 x = 1; }
}
"""


def test_fields_no_column_reads_are_passed_over(tmp_path):
    from ksql.runtime.formats.proto_schema import Schema

    engine = KsqlEngine(str(tmp_path), background=False)
    try:
        schema_id = engine.schema_registry.register("bids-value", WRITER, "PROTOBUF")
        message = Schema(WRITER).message()
        columns = [Column("AUCTION", T.BIGINT, VALUE), Column("CHANNEL", T.STRING, VALUE), Column("N", T.INTEGER, VALUE)]
        header = bytes([0]) + schema_id.to_bytes(4, "big") + b"\0"
        payloads = []
        for i in range(5):
            m = message(channel=f"c{i}", auction=i * 1000 - 1, numbers=[1, -2, i], ratio=0.5 * i)
            m.other.x = i
            payloads.append(header + m.SerializeToString())
        batch = ProtobufFormat(columns, key=False, topic="bids", registry=True)
        records = ProtobufFormat(columns, key=False, topic="bids", registry=True)
        got, expected = read_both(batch, records, payloads)
        assert got == expected == ([[-1, 999, 1999, 2999, 3999], ["c0", "c1", "c2", "c3", "c4"], [None] * 5], {})
        assert batch._decode_batch(pa.array(payloads, pa.binary())) is not None
    finally:
        engine.close()
