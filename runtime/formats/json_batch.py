"""JSON objects <-> Arrow columns for a whole batch, in native code (no Python object per record).

Both directions are fast paths of the JSON format: they answer only when the batch is one they
convert exactly as the record-by-record path would, and return None otherwise, so that path
gives every record its own conversion or error (and a bad record goes to the processing log
without failing its batch).

Decoding joins the payloads into newline-delimited JSON and reads them with pyarrow's JSON
reader. The reader is case-sensitive and ksqlDB is not, so the field names found are matched
to the columns afterwards, whatever their case; a batch that spells a column two ways, holds a
value of another JSON type than its column's, or a payload that is not one object on one line
is left to the record path.

Before pyarrow, polars' reader is tried: it takes about 30 % less CPU time. It is told every
column under the spelling of the batch's first record, passes over any other field, and
refuses a value of another JSON type, except that it writes a number, object or array into a
STRING column as text of its own making (3.0 as "3"). So its answer is taken only when
- the text holds as many `":` as records times columns: no record has a field beyond the
  columns, so none spells a column a second way (ksqlDB takes the first spelling written);
- every null that came back was written as one (not a field missing, or spelled another way);
- no STRING value could be such text (a number, or starting with `{` or `[`).
Otherwise pyarrow reads the batch as before.

Encoding hands the columns to polars, which writes `{"A":1,"B":"x","C":null}` byte for byte as
orjson does for the same rows (escapes included), three times as fast as joining them with
Arrow's string kernels.
"""
from __future__ import annotations

import io

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from ksql.planner import types as T
from ksql.runtime.expressions.casts import nearest_doubles
from ksql.runtime.formats import native

# column type -> the Arrow types of JSON values that convert to it exactly as the record reader does
DECODABLE = {
    "BOOLEAN": (pa.bool_(),),
    "INTEGER": (pa.int64(),),
    "BIGINT": (pa.int64(),),
    "DOUBLE": (pa.int64(), pa.float64()),
    "STRING": (pa.string(),),
}
ENCODABLE = {"INTEGER", "BIGINT", "BOOLEAN", "STRING", "DOUBLE", "DECIMAL", "TIMESTAMP", "TIME", "DATE"}
# arrays whose elements polars writes as the record writer does (no NaN, decimal or time inside)
_LIST_ELEMENTS = {"INTEGER", "BIGINT", "BOOLEAN", "STRING"}
# the temporal types are written as their numbers: epoch millis, millis of the day, days
_AS_NUMBERS = {"TIMESTAMP": pa.int64(), "TIME": pa.int32(), "DATE": pa.int32()}
# column type -> the polars type its values are read as, strictly
_POLARS_TYPES = {"BOOLEAN": "Boolean", "INTEGER": "Int32", "BIGINT": "Int64", "DOUBLE": "Float64", "STRING": "String"}
# how polars writes a JSON number (1e20 as 100000000000000000000), object or array into a
# STRING column, and the first bytes of that text
_SUSPECT_TEXT = r"^(-?[0-9]+(\.[0-9]+)?$|[\[{])"
_SUSPECT_STARTS = pa.array([c.encode() for c in "-0123456789{["], pa.binary())
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")
# after polars declined a batch, how many batches go straight to pyarrow before it is tried again
_POLARS_REST = 16
# The text is parsed in blocks by the reader's threads: a 10,000-record batch of 140-byte
# records on both cores in about half the time one thread takes. Blocks of at least 256 KiB,
# and an eighth of the text: more, smaller blocks cost more than they spread (20 MB of
# 640-byte records: 35 ms in 256 KiB blocks, 27 ms in eighths; 1 MB: the same either way).
_MIN_BLOCK = 1 << 18
_BLOCKS = 8


class ObjectDecoder:
    """Decodes batches of JSON objects into the given columns. The reader is told each
    column's type under the spelling the data used last (learnt from the first record of a
    batch), so it neither guesses types (it would take a date-like string for a timestamp) nor
    misses a field spelled in another case: that field comes back as a column of its own, and
    the batch goes to the record path."""

    def __init__(self, columns):
        self.columns = tuple(columns)
        self.arrow_types = {c.name.upper(): T.to_arrow(c.type) for c in self.columns}
        self.spellings: dict[str, str] = {}  # column (upper case) -> the field name last seen
        # columns (upper case) nobody reads: given as NULLs once their values are checked, as
        # gathering the reader's blocks into one array copies every value
        self.unread: frozenset[str] = frozenset()
        self._polars_rest = 0  # batches still to leave to pyarrow (see _POLARS_REST)
        self._by_polars = all(c.type.base in _POLARS_TYPES for c in self.columns)

    def decode(self, payloads: pa.BinaryArray) -> list[pa.Array] | None:
        """One array per column (a null payload gives a row of nulls), or None when the batch
        needs the record path."""
        n = len(payloads)
        text = _lines(payloads)
        if text is None:
            return None
        self._learn(payloads)
        arrays = self._polars_decode(text, payloads)
        if arrays is not None:
            return arrays
        schema = pa.schema([(name, self.arrow_types[upper]) for upper, name in self.spellings.items()])
        options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        try:
            read_options = pa_json.ReadOptions(use_threads=True, block_size=max(_MIN_BLOCK, text.size // _BLOCKS))
            table = pa_json.read_json(pa.BufferReader(text), read_options=read_options, parse_options=options)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
        if table.num_rows != n:  # a blank payload: its line was skipped
            return None
        by_name: dict[str, int] = {}
        for i, name in enumerate(table.column_names):
            upper = name.upper()
            if upper in by_name and upper in self.arrow_types:
                return None  # one column, two spellings: the record path keeps the first one written
            by_name[upper] = i
        arrays = []
        for column in self.columns:
            upper = column.name.upper()
            arrow_type = self.arrow_types[upper]
            index = by_name.get(upper)
            if index is None:
                arrays.append(pa.nulls(n, arrow_type))
                continue
            values = table.column(index)
            if values.type != arrow_type:  # a field the first record did not have
                if not pa.types.is_null(values.type) and values.type not in DECODABLE[column.type.base]:
                    return None
                try:
                    values = values.cast(arrow_type)  # safe: an INTEGER out of range is refused
                except pa.ArrowException:
                    return None
            arrays.append(pa.nulls(n, arrow_type) if upper in self.unread else values.combine_chunks())
        return arrays

    def _polars_decode(self, text: pa.Buffer, payloads: pa.BinaryArray) -> list[pa.Array] | None:
        """The columns as polars reads them, when its answer is the one pyarrow's path would give
        (see the module's comment); else None."""
        if not self._by_polars or not self.columns or len(self.spellings) != len(self.columns):
            return None
        if self._polars_rest:
            self._polars_rest -= 1
            return None
        polars = native.polars()
        if polars is None:
            return None
        n = len(payloads)
        if _keys(text) != n * len(self.columns):
            self._polars_rest = _POLARS_REST
            return None
        names = [self.spellings[c.name.upper()] for c in self.columns]
        schema = {name: getattr(polars, _POLARS_TYPES[c.type.base]) for name, c in zip(names, self.columns)}
        try:
            frame = polars.read_ndjson(io.BytesIO(memoryview(text)), schema=schema)
        except polars.exceptions.PolarsError:
            frame = None
        arrays = None if frame is None or frame.height != n else self._polars_columns(frame, names, payloads)
        if arrays is None:
            self._polars_rest = _POLARS_REST
        return arrays

    def _polars_columns(self, frame, names: list[str], payloads: pa.BinaryArray) -> list[pa.Array] | None:
        arrays = []
        for name, column in zip(names, self.columns):
            series = frame.get_column(name)
            values = series.to_arrow()
            if series.null_count() and not _written_null(payloads.filter(pc.is_null(values)), name):
                return None
            if column.type.base == "STRING":
                values = values.cast(pa.string())
                if _may_be_written_by_polars(values, series):
                    return None
            upper = column.name.upper()
            arrays.append(pa.nulls(len(values), values.type) if upper in self.unread else values)
        return arrays

    def _learn(self, payloads: pa.BinaryArray) -> None:
        first = next((p for p in payloads if p.is_valid), None)
        if first is None:
            return
        try:
            document = orjson.loads(first.as_py())
        except orjson.JSONDecodeError:
            return
        if type(document) is dict:
            for name in document:
                if name.upper() in self.arrow_types:
                    self.spellings[name.upper()] = name


def _written_null(payloads: pa.BinaryArray, name: str) -> bool:
    """Whether every payload has `"name":null` (a space allowed before the null): the field is
    there and null, not missing or spelled another way."""
    literal = "".join("\\" + c if c in _REGEX_SPECIAL else c for c in name)
    return pc.all(pc.match_substring_regex(payloads, '"' + literal + r'":\s*null')).as_py()


def _keys(text: pa.Buffer) -> int:
    """How many times `":` occurs in the text (each object member's name ends so, when written
    without a space): two bytes compared at even offsets, then at odd ones, in numpy."""
    data = memoryview(text)
    pattern = int.from_bytes(b'":', "little")
    even = np.frombuffer(data[:len(data) // 2 * 2], "<u2")
    odd = np.frombuffer(data[1:1 + (len(data) - 1) // 2 * 2], "<u2")
    return int(np.count_nonzero(even == pattern)) + int(np.count_nonzero(odd == pattern))


def _may_be_written_by_polars(values: pa.StringArray, series) -> bool:
    """Whether a STRING value read by polars (`series`, as Arrow `values`) may be its text of a
    JSON number, object or array rather than a JSON string (a boolean's text, `true` or
    `false`, is the record path's too). The first bytes are looked at in Arrow; when some could
    start such text, polars' own regex engine, several times faster here than Arrow's, decides."""
    first = pc.binary_slice(values.view(pa.binary()), 0, 1)
    if not pc.any(pc.is_in(first, _SUSPECT_STARTS)).as_py():
        return False
    return bool(series.str.contains(_SUSPECT_TEXT).any())


def _lines(payloads: pa.BinaryArray) -> pa.Buffer | None:
    """The payloads as newline-delimited JSON (`{}` for a null one); None when a payload holds
    a line break of its own (JSON may put one between tokens: it would split the record)."""
    if payloads.null_count:
        payloads = pc.fill_null(payloads, b"{}")
    if _holds_line_break(payloads):
        return None
    everything = pa.ListArray.from_arrays(pa.array([0, len(payloads)], pa.int32()), payloads)
    return pc.binary_join(everything, b"\n")[0].as_buffer()


def _holds_line_break(payloads: pa.BinaryArray) -> bool:
    """Whether any payload holds a \\n or a \\r: searched in the payloads' bytes as one piece
    (bytes' `in` is a memchr, several times faster than counting the lines of the joined text)."""
    offsets_buffer, data = payloads.buffers()[1:3]
    if data is None or not len(payloads):
        return False
    offsets = np.frombuffer(offsets_buffer, np.int32)
    raw = data[int(offsets[payloads.offset]):int(offsets[payloads.offset + len(payloads)])].to_pybytes()
    return b"\n" in raw or b"\r" in raw


def non_finite_rows(columns, arrays) -> np.ndarray | None:
    """The rows holding a NaN or infinite DOUBLE (which polars would write as null), or None
    when there are none."""
    odd = None
    for column, array in zip(columns, arrays):
        if column.type.base == "DOUBLE":
            finite = pc.fill_null(pc.is_finite(array), True)
            if not pc.all(finite).as_py():
                rows = ~finite.to_numpy(zero_copy_only=False)
                odd = rows if odd is None else odd | rows
    return None if odd is None else np.flatnonzero(odd)


def encode_bare(columns, arrays) -> pa.BinaryArray | None:
    """JSON values of one column written bare (a lone key column, or WRAP_SINGLE_VALUE=false):
    each row's object written by encode_objects, less its `{"NAME":` and `}`."""
    objects = encode_objects(columns, arrays)
    if objects is None:
        return None
    return pc.binary_slice(objects, len(orjson.dumps(columns[0].name)) + 2, -1)


def encodable(sql_type) -> bool:
    """Whether encode_objects writes a column of this type."""
    if sql_type.base == "ARRAY":
        return sql_type.params[0].base in _LIST_ELEMENTS
    if sql_type.base == "MAP":
        return sql_type.params[0].base == "STRING" and sql_type.params[1].base in _LIST_ELEMENTS
    return sql_type.base in ENCODABLE


def encode_objects(columns, arrays) -> pa.BinaryArray | None:
    """JSON objects of number, decimal, boolean, string and temporal columns (and arrays of
    integers, booleans and strings), one per row, written by polars; None when a DOUBLE is not
    finite (the record path writes "NaN", as Jackson does), or when this process may not use
    polars (native.py)."""
    polars = native.polars()
    if polars is None:
        return None
    arrays = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    if not len(arrays[0]):
        return pa.array([], pa.binary())
    for i, column in enumerate(columns):
        base = column.type.base
        if base == "DOUBLE" and not pc.all(pc.fill_null(pc.is_finite(arrays[i]), True)).as_py():
            return None
        if base in _AS_NUMBERS:
            arrays[i] = arrays[i].cast(_AS_NUMBERS[base])
        elif base == "DECIMAL":
            arrays[i] = nearest_doubles(arrays[i])
    maps = [i for i, c in enumerate(columns) if c.type.base == "MAP"]
    if maps:
        return _with_maps(polars, columns, arrays, maps)
    return _objects(polars, [c.name for c in columns], arrays)


def _objects(polars, names, arrays) -> pa.BinaryArray:
    # polars takes a table's columns in about a quarter of the time it takes a struct array's
    frame = polars.from_arrow(pa.table(arrays, names=names))
    objects = frame.select(polars.struct(polars.all()).struct.json_encode()).to_series()
    return objects.to_arrow().cast(pa.binary())


def _with_maps(polars, columns, arrays, maps) -> pa.BinaryArray:
    """Objects with MAP columns, which polars has no JSON object for: each run of other columns
    is written by polars (less its braces), each map as the text of its entries, `"key":value`
    joined by commas; the pieces are joined in column order."""
    pieces, run = [], []

    def close_run():
        if run:
            written = _objects(polars, [columns[i].name for i in run], [arrays[i] for i in run])
            pieces.append(pc.binary_slice(written, 1, -1))
            run.clear()

    for i, column in enumerate(columns):
        if i not in maps:
            run.append(i)
            continue
        close_run()
        pieces.append(pc.binary_join_element_wise(orjson.dumps(column.name) + b":", _map_text(polars, arrays[i]), b""))
    close_run()
    joined = pc.binary_join_element_wise(*pieces, b",") if len(pieces) > 1 else pieces[0]
    return pc.binary_join_element_wise(b"{", joined, b"}", b"").cast(pa.binary())


def _map_text(polars, maps: pa.MapArray) -> pa.BinaryArray:
    """Each map as a JSON object, entries in their order (NULL as null)."""
    offsets = maps.offsets.to_numpy()
    start, end = int(offsets[0]), int(offsets[-1])
    keys, items = maps.keys, maps.items
    if len(keys) != end - start:  # the entries of the whole array a slice was cut from
        keys, items = keys.slice(start, end - start), items.slice(start, end - start)
    offsets = pa.array(offsets - start, pa.int32())
    keys = pc.binary_slice(_objects(polars, ["k"], [keys]), 5, -1)  # `{"k":` ... `}`
    values = pc.binary_slice(_objects(polars, ["v"], [items]), 5, -1)
    entries = pc.binary_join_element_wise(keys, values, b":")
    text = pc.binary_join(pa.ListArray.from_arrays(offsets, entries), b",")
    text = pc.binary_join_element_wise(b"{", text, b"}", b"")
    return pc.if_else(maps.is_null(), pa.scalar(b"null", pa.binary()), text.cast(pa.binary()))
