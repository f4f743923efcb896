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
