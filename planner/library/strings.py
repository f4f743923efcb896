"""String and bytes functions: case, padding, masking, splitting, encodings, hashes (regular
expressions are in regex.py)."""
from __future__ import annotations

import base64
import functools
import hashlib
import re
import uuid as uuid_module
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import per_row
from ksql.planner.library.common import (BY, D, I, L, S, VARIES, _nulls, constant,
                                         count_by_row, duck, fn, list_elements, md5, overloads, sig,
                                         with_fallback)


# ---------------------------------------------------------------- strings

def replace(values, n):
    s, old, new = values[0], constant(values[1]), constant(values[2])
    if old is VARIES or new is VARIES or old == "":
        return None
    if old is None or new is None:
        return _nulls(n)
    return pc.replace_substring(s, pattern=old, replacement=new)


def instr(values, n):
    if len(values) != 2 or constant(values[1]) is VARIES:
        return None
    s, sub = broadcast(values[0], n), constant(values[1])
    if sub is None:
        return _nulls(n, pa.int32())
    found = pc.add(pc.find_substring(s, sub), 1)  # byte offsets: right for ASCII rows only
    return found, pc.invert(pc.string_is_ascii(s))


def pad(left: bool):
    def kernel(values, n):
        length, filler = constant(values[1]), constant(values[2])
        if length is VARIES or filler is VARIES or isinstance(filler, bytes) or (length or 0) > 4096:
            return None
        if length is None or not filler or length < 0:  # (an empty padding too, as the docs say)
            return _nulls(n)
        s = broadcast(values[0], n)
        cut = pc.utf8_slice_codeunits(s, 0, length)
        full = (filler * (length // len(filler) + 1))[:length]
        prefixes = pa.array([full[:k] for k in range(length + 1)])
        fill = prefixes.take(pc.subtract(length, pc.utf8_length(cut)))
        return pc.binary_join_element_wise(fill, cut, "") if left else pc.binary_join_element_wise(cut, fill, "")
    return kernel


def concat_ws(values, n):
    sep = constant(values[0])
    if sep is VARIES or isinstance(sep, bytes):
        return None
    if sep is None:
        return _nulls(n)
    pieces = [pc.fill_null(pc.binary_join_element_wise(sep, broadcast(v, n), ""), "") for v in values[1:]]
    joined = pc.binary_join_element_wise(*pieces, "") if pieces else pa.array([""] * n)
    return pc.utf8_slice_codeunits(joined, len(sep))  # drop the separator before the first part


def split(values, n):
    delimiter = constant(values[1])
    if delimiter is VARIES or not delimiter:
        return None
    return pc.split_pattern(values[0], pattern=delimiter)


def initcap(values, n):
    """Words split at single spaces, each capitalized; strings with other whitespace go row by row."""
    s = broadcast(values[0], n)
    words = pc.split_pattern(s, pattern=" ")
    flat = pc.utf8_capitalize(pc.list_flatten(words))
    rebuilt = pa.ListArray.from_arrays(words.offsets, flat, mask=words.is_null())
    return pc.binary_join(rebuilt, " "), pc.match_substring_regex(s, r"[^\S ]")


_CLASSES = [r"\p{Lu}", r"\p{Ll}", r"\p{Nd}"]
_PLACEHOLDERS = ["\ue000", "\ue001", "\ue002", "\ue003"]


def _mask(s, chars):
    """Replace upper, lower, digit and other characters; a NULL mask character keeps them.
    Placeholders first, so a mask character is never itself masked again."""
    if any(isinstance(c, str) and len(c) != 1 for c in chars if c is not None):
        return None
    for cls, mark, char in zip(_CLASSES, _PLACEHOLDERS, chars):
        if char is not None:
            s = pc.replace_substring_regex(s, pattern=cls, replacement=mark)
    if chars[3] is not None:
        s = pc.replace_substring_regex(s, pattern=r"[^\p{Lu}\p{Ll}\p{Nd}\x{e000}-\x{e002}]",
                                       replacement=_PLACEHOLDERS[3])
    for mark, char in zip(_PLACEHOLDERS, chars):
        if char is not None:
            s = pc.replace_substring(s, pattern=mark, replacement=char)
    return s


def mask(kind: str):
    defaults = ("X", "x", "n", "-")

    def kernel(values, n):
        args = [constant(v) for v in values[1:]]
        if VARIES in args:
            return None
        s = broadcast(values[0], n)
        if kind == "ALL":
            return _mask(s, tuple(args) + defaults[len(args):])
        count, chars = args[0], tuple(args[1:]) + defaults[len(args) - 1:]
        if count is None or count < 0:
            return None
        length = pc.utf8_length(s)
        if kind in ("LEFT", "KEEP_LEFT"):
            head, tail = pc.utf8_slice_codeunits(s, 0, count), pc.utf8_slice_codeunits(s, count)
            masked = _mask(head if kind == "LEFT" else tail, chars)
            if masked is None:
                return None
            return pc.binary_join_element_wise(*((masked, tail) if kind == "LEFT" else (head, masked)), "")
        # RIGHT / KEEP_RIGHT: the split point depends on each string's length
        if len(set(length.to_pylist())) > 1:
            return None
        point = max((length[0].as_py() or 0) - count, 0) if n else 0
        head, tail = pc.utf8_slice_codeunits(s, 0, point), pc.utf8_slice_codeunits(s, point)
        masked = _mask(tail if kind == "RIGHT" else head, chars)
        if masked is None:
            return None
        return pc.binary_join_element_wise(*((head, masked) if kind == "RIGHT" else (masked, tail)), "")
    return kernel


# ---------------------------------------------------------------- bytes (DuckDB's encoders)

_TO_BYTES = {"hex": "unhex(a1)", "base64": "from_base64(a1)", "utf8": "encode(a1)"}
_FROM_BYTES = {"hex": "hex(a1)", "base64": "to_base64(a1)", "utf8": "decode(a1)"}


def to_bytes(values, n):
    encoding = constant(values[1])
    if encoding is VARIES or encoding is None or encoding.lower() not in _TO_BYTES:
        return None
    if encoding.lower() == "hex":  # DuckDB reads odd-length and non-hex text leniently: Java rejects it
        s = broadcast(values[0], n)
        odd = pc.invert(pc.match_substring_regex(s, r"^(?:[0-9A-Fa-f]{2})*$"))
        return duck(_TO_BYTES["hex"], values[:1], n, pa.binary()), odd
    if encoding.lower() == "base64":
        s = broadcast(values[0], n)
        odd = pc.invert(pc.match_substring_regex(s, r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"))
        clean = pc.if_else(odd, pa.scalar(None, pa.string()), s)
        return duck(_TO_BYTES["base64"], [clean], n, pa.binary()), odd
    return pc.cast(broadcast(values[0], n), pa.binary())


def from_bytes(values, n):
    encoding = constant(values[1])
    if encoding is VARIES or encoding is None or encoding.lower() not in _FROM_BYTES:
        return None
    b = broadcast(values[0], n)
    if encoding.lower() == "utf8":
        valid = pc.utf8_is_valid(b) if hasattr(pc, "utf8_is_valid") else None
        if valid is None:
            return None
        return pc.cast(pc.if_else(valid, b, pa.scalar(None, pa.binary())), pa.string()), pc.invert(valid)
    return duck(_FROM_BYTES[encoding.lower()], [b], n, pa.string())


def number_from_bytes(width: int, kind: str):
    """INT_FROM_BYTES / BIGINT_FROM_BYTES / DOUBLE_FROM_BYTES: fixed-width big- (or little-)
    endian numbers read straight from the binary column's buffer."""
    def kernel(values, n):
        order = constant(values[1]) if len(values) > 1 else "BIG_ENDIAN"
        if order is VARIES or order is None or order.upper() not in ("BIG_ENDIAN", "LITTLE_ENDIAN"):
            return None
        blobs = broadcast(values[0], n)
        lengths = pc.binary_length(blobs)
        wrong = pc.fill_null(pc.not_equal(lengths, width), False)
        if pc.any(wrong).as_py() or blobs.offset:
            return None
        offsets = np.frombuffer(blobs.buffers()[1], np.int32)[:n + 1]
        data = blobs.buffers()[2]
        raw = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None else np.zeros(0, np.uint8)
        present = pc.is_valid(blobs).to_numpy(zero_copy_only=False)
        out = np.zeros(n, np.float64 if kind == "double" else np.int64)
        code = {4: "i4", 8: "i8"}[width] if kind == "int" else "f8"
        endian = ">" if order.upper() == "BIG_ENDIAN" else "<"
        out[present] = np.frombuffer(raw.tobytes(), endian + code)
        arrow_type = pa.float64() if kind == "double" else (pa.int32() if width == 4 else pa.int64())
        return pa.array(out, arrow_type, mask=~present)
    return kernel


@functools.lru_cache(maxsize=1)
def _basic_plane() -> pa.Array:
    """Every character of Unicode's basic plane (surrogates as NULL), for CHR by one take."""
    return pa.array([None if 0xD800 <= c <= 0xDFFF else chr(c) for c in range(0x10000)], pa.string())


def chr_of_code(values, n):
    codes = broadcast(values[0], n)
    if not pa.types.is_integer(codes.type):
        return None
    inside = pc.and_(pc.greater_equal(codes, 0), pc.less(codes, 0x10000))
    picked = _basic_plane().take(pc.if_else(inside, codes, 0))
    return pc.if_else(pc.fill_null(inside, False), picked, pa.scalar(None, pa.string())), \
        pc.fill_null(pc.invert(inside), False)


def _apply(kernel, values, n):
    """A kernel's (result, rows to redo) with no rows to redo when it returns an array alone."""
    out = kernel(values, n)
    if out is None or isinstance(out, tuple):
        return out
    return out, pa.array(np.zeros(n, bool))


def encode(values, n):
    """ENCODE(s, from, to): TO_BYTES then FROM_BYTES (hex in lower case)."""
    raw = _apply(to_bytes, [values[0], values[1]], n)
    if raw is None:
        return None
    text = _apply(from_bytes, [raw[0], values[2]], n)
    if text is None:
        return None
    target = constant(values[2])
    result = pc.utf8_lower(text[0]) if target.lower() == "hex" else text[0]
    return result, pc.or_(raw[1], text[1])


def uuid_from_bytes(values, n):
    blobs = broadcast(values[0], n)
    wrong = pc.fill_null(pc.not_equal(pc.binary_length(blobs), 16), False)
    digits = pc.utf8_lower(duck("hex(a1)", [pc.if_else(wrong, pa.scalar(None, pa.binary()), blobs)], n, pa.string()))
    parts = [pc.utf8_slice_codeunits(digits, a, b) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))]
    return pc.binary_join_element_wise(*parts, "-"), wrong


def split_to_map(values, n):
    entry, kv = constant(values[1]), constant(values[2])
    if entry is VARIES or kv is VARIES:
        return None
    if not entry or not kv:
        return pa.nulls(n, pa.map_(pa.string(), pa.string()))
    text = broadcast(values[0], n)
    entries = pc.split_pattern(text, pattern=entry)
    parents, items = list_elements(entries)
    pieces = pc.split_pattern(items, pattern=kv)
    usable = pc.and_(pc.greater_equal(pc.list_value_length(pieces), 2),
                     pc.greater(pc.utf8_length(items), 0)).to_numpy(zero_copy_only=False)
    keys = pc.list_element(pieces.filter(pa.array(usable)), 0)
    vals = pc.list_element(pieces.filter(pa.array(usable)), 1)
    kept = parents[usable]
    table = pa.table({"p": pa.array(kept, pa.int64()), "k": keys})
    repeated = table.group_by(["p", "k"]).aggregate([("k", "count")]).filter(pc.greater(pc.field("k_count"), 1))
    redo = np.zeros(n, bool)
    redo[repeated.column("p").to_numpy()] = True  # a key given twice: the row form keeps the last value
    counts = count_by_row(kept, n)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    maps = pa.MapArray.from_arrays(pa.array(offsets), keys, vals, mask=text.is_null())
    return maps, pa.array(redo)


# ---------------------------------------------------------------- strings

def _str1(name, kernel, description, ret=S):
    fn(name, "STRING", description, overloads(sig(S, ret=ret)), lambda v, n: kernel(v[0]), f"{name}(s STRING)")


_str1("UCASE", pc.utf8_upper, "Upper case.")
_str1("LCASE", pc.utf8_lower, "Lower case.")
_str1("TRIM", lambda s: pc.utf8_trim(s, " \t\n\r\x0b\x0c"), "Removes leading and trailing whitespace.")
fn("LEN", "STRING", "The length of a string, or of bytes.",
   overloads(sig(S, ret=I), sig(BY, ret=I)),
   lambda v, n: pc.utf8_length(v[0]) if pa.types.is_string(v[0].type) else pc.binary_length(v[0]),
   "LEN(s STRING) -> INTEGER", "LEN(b BYTES) -> INTEGER")


def _initcap(s):
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), s.lower())


fn("INITCAP", "STRING", "Capitalizes the first letter of each word.", overloads(sig(S, ret=S)),
   with_fallback(initcap, _initcap), "INITCAP(s STRING)")


def _concat(values, n):
    arrays = [pc.fill_null(broadcast(v, n), b"" if pa.types.is_binary(v.type) else "") for v in values]
    all_null = None
    for v in values:
        null = pc.is_null(broadcast(v, n))
        all_null = null if all_null is None else pc.and_(all_null, null)
    joined = pc.binary_join_element_wise(*arrays, b"" if pa.types.is_binary(arrays[0].type) else "")
    return pc.if_else(all_null, pa.scalar(None, joined.type), joined)


fn("CONCAT", "STRING", "Concatenates strings (or bytes), skipping NULLs.",
   overloads(sig(S, ret=S, variadic=True), sig(BY, ret=BY, variadic=True)), _concat, "CONCAT(s STRING, ...)")


def _concat_ws_row(sep, *parts):
    return None if sep is None else sep.join(p for p in parts if p is not None)


_concat_ws = with_fallback(concat_ws, _concat_ws_row, null_on_null=False)


fn("CONCAT_WS", "STRING", "Concatenates with a separator, skipping NULLs.",
   overloads(sig(S, S, ret=S, variadic=True), sig(BY, BY, ret=BY, variadic=True)), _concat_ws,
   "CONCAT_WS(separator, s, ...)")


def _substring(s, start, length=None):
    begin = start - 1 if start > 0 else max(len(s) + start, 0)
    if start == 0:
        begin = 0
    return s[begin:] if length is None else s[begin:begin + max(length, 0)]


def _substring_batch(values, n):
    text = values[0]
    constants = all(isinstance(v, pa.Scalar) and v.is_valid for v in values[1:])
    if constants and pa.types.is_string(text.type) and values[1].as_py() > 0:
        start = values[1].as_py() - 1
        stop = start + max(values[2].as_py(), 0) if len(values) > 2 else None
        return pc.utf8_slice_codeunits(text, start, stop)
    return per_row(_substring)(values, n)


fn("SUBSTRING", "STRING", "A substring by 1-based position and optional length.",
   overloads(sig(S, I, ret=S), sig(S, I, I, ret=S), sig(BY, I, ret=BY), sig(BY, I, I, ret=BY)),
   _substring_batch, "SUBSTRING(s, position [, length])")


def _replace(s, old, new):
    return s.replace(old, new)


fn("REPLACE", "STRING", "Replaces every occurrence of a substring.", overloads(sig(S, S, S, ret=S)),
   with_fallback(replace, _replace), "REPLACE(s, old, new)")


def _instr(s, sub, position=1, occurrence=1):
    if position < 0:
        end = len(s) + position + 1
        index = end
        for _ in range(occurrence):
            index = s.rfind(sub, 0, index + len(sub) - 1 if index < end else end)
            if index < 0:
                return 0
            end = index
        return index + 1
    index = position - 2
    for _ in range(occurrence):
        index = s.find(sub, index + 1)
        if index < 0:
            return 0
    return index + 1


fn("INSTR", "STRING", "The 1-based position of a substring (0 when absent).",
   overloads(sig(S, S, ret=I), sig(S, S, I, ret=I), sig(S, S, I, I, ret=I)), with_fallback(instr, _instr),
   "INSTR(s, sub [, position [, occurrence]])")


def _pad(left):
    def pad(s, length, filler):
        if length < 0 or not filler:  # an empty padding gives NULL, whatever the length
            return None
        if len(s) >= length:
            return s[:length]
        needed = length - len(s)
        fill = (filler * (needed // len(filler) + 1))[:needed]
        return fill + s if left else s + fill
    return pad


fn("LPAD", "STRING", "Pads on the left to a length.", overloads(sig(S, I, S, ret=S), sig(BY, I, BY, ret=BY)),
   with_fallback(pad(True), _pad(True)), "LPAD(s, length, padding)")
fn("RPAD", "STRING", "Pads on the right to a length.", overloads(sig(S, I, S, ret=S), sig(BY, I, BY, ret=BY)),
   with_fallback(pad(False), _pad(False)), "RPAD(s, length, padding)")


def _mask_char(c, upper="X", lower="x", digit="n", other="-"):
    if c.isupper():
        return upper if upper is not None else c
    if c.islower():
        return lower if lower is not None else c
    if c.isdigit():
        return digit if digit is not None else c
    return other if other is not None else c


def _masker(kind):
    def mask_row(s, *args):
        if kind == "ALL":
            chars = args
            return "".join(_mask_char(c, *chars) for c in s)
        n, chars = args[0], args[1:]
        if n < 0:
            raise ValueError("negative length")
        if kind == "LEFT":
            return "".join(_mask_char(c, *chars) for c in s[:n]) + s[n:]
        if kind == "RIGHT":
            return s[:max(len(s) - n, 0)] + "".join(_mask_char(c, *chars) for c in s[max(len(s) - n, 0):])
        if kind == "KEEP_LEFT":
            return s[:n] + "".join(_mask_char(c, *chars) for c in s[n:])
        return "".join(_mask_char(c, *chars) for c in s[:max(len(s) - n, 0)]) + s[max(len(s) - n, 0):]
    return with_fallback(mask(kind), lambda s, *args: None if s is None else mask_row(s, *args), null_on_null=False)


fn("MASK", "STRING", "Masks letters, digits and other characters.",
   overloads(sig(S, ret=S), sig(S, S, ret=S), sig(S, S, S, ret=S), sig(S, S, S, S, ret=S), sig(S, S, S, S, S, ret=S)),
   _masker("ALL"), "MASK(s [, upper, lower, digit, other])")
for _name, _kind in [("MASK_LEFT", "LEFT"), ("MASK_RIGHT", "RIGHT"), ("MASK_KEEP_LEFT", "KEEP_LEFT"),
                     ("MASK_KEEP_RIGHT", "KEEP_RIGHT")]:
    fn(_name, "STRING", f"Masks characters ({_kind.lower().replace('_', ' ')}).",
       overloads(*[sig(S, I, *([S] * k), ret=S) for k in range(5)]), _masker(_kind),
       f"{_name}(s, n [, upper, lower, digit, other])")


def _chr(code):
    if isinstance(code, str):  # '\\uXXXX', or a surrogate pair '\\uD860\\uDEB8' as Java writes it
        if not re.fullmatch(r"(?:\\u[0-9a-fA-F]{4}){1,2}", code):
            return None
        units = bytes.fromhex(code.replace("\\u", ""))
        try:
            return units.decode("utf-16-be")
        except UnicodeDecodeError:
            return None
    return chr(code) if 0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None  # no lone surrogates


fn("CHR", "STRING", "The character with a code point (or a '\\uXXXX' string).",
   overloads(sig(I, ret=S), sig(S, ret=S)), with_fallback(chr_of_code, _chr),
   "CHR(code INTEGER)", "CHR(code STRING)")
_uuid_of_bytes = with_fallback(uuid_from_bytes, lambda b: str(uuid_module.UUID(bytes=b)))


def _uuid(values, n):
    if not values:  # random UUIDs: uuid4 per row is the definition
        return [str(uuid_module.uuid4()) for _ in range(n)]
    return _uuid_of_bytes(values, n)


_uuid.reference = _uuid_of_bytes.reference
fn("UUID", "STRING", "A random UUID, or the UUID in 16 bytes.", overloads(sig(ret=S), sig(BY, ret=S)),
   _uuid, "UUID() -> STRING", "UUID(bytes BYTES) -> STRING")
fn("MD5", "STRING", "The hex MD5 digest of a string.", overloads(sig(S, ret=S)),
   with_fallback(md5, lambda s: hashlib.md5(s.encode()).hexdigest()), "MD5(s STRING)")

_ENCODINGS = {"hex", "utf8", "ascii", "base64"}


def _hex_literal(s: str) -> str:
    """ENCODE's hex text may be written 0x4578 or X'4578' (x'4578'), as ksqlDB reads it; after
    0x an odd number of digits has a leading zero implied."""
    if s[:2] in ("0x", "0X"):
        digits = s[2:]
        return "0" + digits if len(digits) % 2 else digits
    if len(s) >= 3 and s[0] in "xX" and s[1] == "'" and s[-1] == "'":
        return s[2:-1]
    return s


def _to_bytes(s, encoding):
    encoding = encoding.lower()
    if encoding == "hex":
        return bytes.fromhex(s)
    if encoding == "base64":
        return base64.b64decode(s, validate=True)
    if encoding == "utf8":
        return s.encode("utf-8")
    if encoding == "ascii":
        return s.encode("ascii", errors="replace")  # Java writes '?' for what ASCII cannot hold
    raise ValueError(encoding)


def _from_bytes(b, encoding, upper_hex=True):
    encoding = encoding.lower()
    if encoding == "hex":
        return b.hex().upper() if upper_hex else b.hex()
    if encoding == "base64":
        return base64.b64encode(b).decode()
    if encoding == "utf8":
        return b.decode("utf-8", errors="replace")
    if encoding == "ascii":
        return b.decode("ascii", errors="replace")
    raise ValueError(encoding)


fn("TO_BYTES", "CONVERSIONS", "A string as bytes, in hex, utf8, ascii or base64.", overloads(sig(S, S, ret=BY)),
   with_fallback(to_bytes, _to_bytes), "TO_BYTES(s, encoding)")
fn("FROM_BYTES", "CONVERSIONS", "Bytes as a string, in hex, utf8, ascii or base64.", overloads(sig(BY, S, ret=S)),
   with_fallback(from_bytes, _from_bytes), "FROM_BYTES(b, encoding)")
fn("ENCODE", "STRING", "Re-encodes a string from one encoding (hex, utf8, ascii, base64) to another.",
   overloads(sig(S, S, S, ret=S)),
   with_fallback(encode, lambda s, a, b: _from_bytes(_to_bytes(_hex_literal(s) if a.lower() == "hex" else s, a), b,
                                                     upper_hex=False)),
   "ENCODE(s, from, to)")


def _int_from_bytes(width, kind):
    def convert(b, order="BIG_ENDIAN"):
        if len(b) != width:
            raise ValueError("wrong length")
        data = b if order.upper() == "BIG_ENDIAN" else b[::-1]
        if kind == "double":
            import struct

            return struct.unpack(">d", data)[0]
        return int.from_bytes(data, "big", signed=True)
    return convert


fn("INT_FROM_BYTES", "CONVERSIONS", "A 4-byte integer.", overloads(sig(BY, ret=I), sig(BY, S, ret=I)),
   with_fallback(number_from_bytes(4, "int"), _int_from_bytes(4, "int")), "INT_FROM_BYTES(b [, byte_order])")
fn("BIGINT_FROM_BYTES", "CONVERSIONS", "An 8-byte integer.", overloads(sig(BY, ret=L), sig(BY, S, ret=L)),
   with_fallback(number_from_bytes(8, "int"), _int_from_bytes(8, "int")),
   "BIGINT_FROM_BYTES(b [, byte_order])")
fn("DOUBLE_FROM_BYTES", "CONVERSIONS", "An 8-byte double.", overloads(sig(BY, ret=D), sig(BY, S, ret=D)),
   with_fallback(number_from_bytes(8, "double"), _int_from_bytes(8, "double")),
   "DOUBLE_FROM_BYTES(b [, byte_order])")


def _split(s, delimiter):
    if delimiter == "" or delimiter == b"":
        if not s:  # (as Java's split: nothing to split leaves the empty text itself)
            return [s]
        return list(s) if isinstance(s, str) else [bytes([c]) for c in s]
    return s.split(delimiter)


fn("SPLIT", "STRING", "Splits a string (or bytes) around a delimiter.",
   overloads(sig(S, S, ret=T.array(S)), sig(BY, BY, ret=T.array(BY))), with_fallback(split, _split),
   "SPLIT(s, delimiter)")


def _split_to_map(s, entry, kv):
    """As ksqlDB: empty entries are skipped; an entry is split at every kv delimiter and its
    first two parts taken; entries without the delimiter are skipped."""
    if not entry or not kv:
        return None
    result = {}
    for part in s.split(entry):
        pieces = part.split(kv)
        if part and len(pieces) >= 2:
            result[pieces[0]] = pieces[1]
    return list(result.items())


fn("SPLIT_TO_MAP", "STRING", "Splits 'k1=v1,k2=v2' into a map.", overloads(sig(S, S, S, ret=T.map_of(S, S))),
   with_fallback(split_to_map, _split_to_map), "SPLIT_TO_MAP(s, entry_delimiter, kv_delimiter)")
