"""Array, map and struct functions."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import per_row, rows
from ksql.planner.values import format_value
from ksql.planner.library.common import (ANY, ARRAY, B, I, MAP, S, VARIES, arrays_type, constant,
                                         count_by_row, element_type, fn, list_elements, overloads,
                                         rebuild_lists, sig, with_fallback)


# ---------------------------------------------------------------- arrays and maps

def _list_array(value, n):
    return broadcast(value, n)


def _same(values, other):
    """Element-wise equality where NULL equals NULL (as Python's `in` and `==` see them)."""
    both_null = pc.and_(pc.is_null(values), pc.is_null(other))
    return pc.or_(pc.fill_null(pc.equal(values, other), False), both_null)


def array_contains(values, n):
    lists = _list_array(values[0], n)
    parents, items = list_elements(lists)
    wanted = broadcast(values[1], n).take(pa.array(parents, pa.int64()))
    hits = parents[pc.fill_null(_same(items, wanted), False).to_numpy(zero_copy_only=False)]
    found = count_by_row(hits, n) > 0
    return pa.array(found, pa.bool_(), mask=lists.is_null().to_numpy(zero_copy_only=False))


def array_remove(values, n):
    lists = _list_array(values[0], n)
    parents, items = list_elements(lists)
    wanted = broadcast(values[1], n).take(pa.array(parents, pa.int64()))
    keep = pc.invert(_same(items, wanted)).to_numpy(zero_copy_only=False)
    return rebuild_lists(lists, count_by_row(parents[keep], n), items.filter(pa.array(keep)))


def array_extreme(function: str):
    def kernel(values, n):
        lists = _list_array(values[0], n)
        parents, items = list_elements(lists)
        table = pa.table({"p": pa.array(parents, pa.int64()), "v": items})
        grouped = table.group_by("p").aggregate([("v", function)])
        out = pa.nulls(n, items.type)
        if grouped.num_rows:
            mask = np.zeros(n, bool)
            mask[grouped.column("p").to_numpy()] = True
            order = pc.sort_indices(grouped, sort_keys=[("p", "ascending")])
            out = pc.replace_with_mask(out, pa.array(mask), grouped.column(1).take(order))
        return out
    return kernel


def array_sort(values, n):
    direction = constant(values[1]) if len(values) > 1 else "ASC"
    if direction is VARIES:
        return None
    if direction is None:
        return pa.nulls(n, broadcast(values[0], n).type)
    lists = _list_array(values[0], n)
    parents, items = list_elements(lists)
    order = "descending" if direction.upper() == "DESC" else "ascending"
    table = pa.table({"p": pa.array(parents, pa.int64()), "v": items})
    sorted_at = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("v", order)])  # NULLs sort last
    return rebuild_lists(lists, count_by_row(parents, n), items.take(sorted_at))


def _distinct_elements(parents, items, n):
    """Each row's distinct elements in order of first appearance: (parents, items)."""
    table = pa.table({"p": pa.array(parents, pa.int64()), "v": items, "i": pa.array(np.arange(len(items)))})
    firsts = table.group_by(["p", "v"], use_threads=False).aggregate([("i", "min")]).column("i_min")
    kept = pc.sort_indices(firsts)
    positions = firsts.take(kept).combine_chunks() if isinstance(firsts, pa.ChunkedArray) else firsts.take(kept)
    return parents[positions.to_numpy()], items.take(positions)


def array_distinct(values, n):
    lists = _list_array(values[0], n)
    parents, items = _distinct_elements(*list_elements(lists), n)
    return rebuild_lists(lists, count_by_row(parents, n), items)


def _members(parents, items, other_parents, other_items, n):
    """Whether each (row, element) is among the other array's elements of the same row."""
    left = pa.table({"p": pa.array(parents, pa.int64()), "v": items, "i": pa.array(np.arange(len(items)))})
    right = pa.table({"p": pa.array(other_parents, pa.int64()), "v": other_items}).group_by(["p", "v"]).aggregate([])
    matched = left.join(right, keys=["p", "v"], join_type="left semi").column("i").to_numpy()
    member = np.zeros(len(items), bool)
    member[matched] = True
    # joins never match NULL keys; Python's `in` finds None in a list holding None
    rows_with_null = np.zeros(n, bool)
    rows_with_null[other_parents[pc.is_null(other_items).to_numpy(zero_copy_only=False)]] = True
    return member | (pc.is_null(items).to_numpy(zero_copy_only=False) & rows_with_null[parents])


def array_set(kind: str):
    """ARRAY_EXCEPT / ARRAY_INTERSECT / ARRAY_UNION: distinct elements, in order of first appearance."""
    def kernel(values, n):
        a, b = _list_array(values[0], n), _list_array(values[1], n)
        both = pc.or_(a.is_null(), b.is_null())
        a_parents, a_items = list_elements(a)
        b_parents, b_items = list_elements(b)
        if kind == "UNION":
            table = pa.table({"p": pa.array(np.concatenate([a_parents, b_parents]), pa.int64()),
                              "side": pa.array(np.r_[np.zeros(len(a_parents)), np.ones(len(b_parents))]),
                              "v": pa.concat_arrays([a_items, b_items.cast(a_items.type)])})
            order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("side", "ascending")])
            table = table.take(order)
            parents, items = _distinct_elements(table.column("p").to_numpy(), table.column("v").combine_chunks(), n)
        else:
            parents, items = _distinct_elements(a_parents, a_items, n)
            member = _members(parents, items, b_parents, b_items, n)
            keep = member if kind == "INTERSECT" else ~member
            parents, items = parents[keep], items.filter(pa.array(keep))
        rows_mask = both
        counts = count_by_row(parents, n)
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(counts, out=offsets[1:])
        return pa.ListArray.from_arrays(pa.array(offsets), items, mask=rows_mask)
    return kernel


def array_concat(values, n):
    a, b = _list_array(values[0], n), _list_array(values[1], n)
    a_parents, a_items = list_elements(a)
    b_parents, b_items = list_elements(b)
    table = pa.table({"p": pa.array(np.concatenate([a_parents, b_parents]), pa.int64()),
                      "side": pa.array(np.r_[np.zeros(len(a_parents)), np.ones(len(b_parents))]),
                      "v": pa.concat_arrays([a_items, b_items.cast(a_items.type)])})
    order = pc.sort_indices(table, sort_keys=[("p", "ascending"), ("side", "ascending")])
    counts = count_by_row(a_parents, n) + count_by_row(b_parents, n)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    neither = pc.and_(a.is_null(), b.is_null())
    return pa.ListArray.from_arrays(pa.array(offsets), table.column("v").combine_chunks().take(order), mask=neither)


def slice_list(values, n):
    start, end = constant(values[1]), constant(values[2])
    if start is VARIES or end is VARIES:
        return None
    lists = _list_array(values[0], n)
    if start is None or end is None or start < 1 or end < start:
        return pa.nulls(n, lists.type)
    return pc.list_slice(lists, start - 1, end)


def map_part(part: str):
    def kernel(values, n):
        maps = broadcast(values[0], n)
        items = maps.keys if part == "keys" else maps.items
        return pa.ListArray.from_arrays(maps.offsets, items, mask=maps.is_null())
    return kernel


def elt(values, n):
    index = pc.cast(broadcast(values[0], n), pa.int64())
    options = [broadcast(v, n) for v in values[1:]]
    if not options:
        return pa.nulls(n, pa.string())
    valid = pc.and_(pc.greater_equal(index, 1), pc.less_equal(index, len(options)))
    picked = pc.choose(pc.subtract(pc.if_else(valid, index, 1), 1), *options)
    return pc.if_else(pc.fill_null(valid, False), picked, pa.scalar(None, pa.string()))


def field(values, n):
    target = broadcast(values[0], n)
    out = pa.array(np.zeros(n, np.int32))
    for position in range(len(values) - 1, 0, -1):  # the first match wins: fill from the last
        hit = pc.fill_null(pc.equal(target, broadcast(values[position], n)), False)
        out = pc.if_else(hit, position, out)
    return pc.cast(out, pa.int32())


def array_join(values, n):
    delimiter = constant(values[1]) if len(values) > 1 else ","
    lists = broadcast(values[0], n)
    if delimiter is VARIES or not pa.types.is_string(lists.type.value_type):
        return None
    items = pc.fill_null(pc.list_flatten(lists), "null")
    parents, _ = list_elements(lists)
    joined = pc.binary_join(rebuild_lists(lists, count_by_row(parents, n), items), delimiter or "")
    return joined


def map_entries(values, n):
    ordered = constant(values[1])
    if ordered is VARIES or ordered is None:
        return None
    maps = broadcast(values[0], n)
    offsets = maps.offsets.to_numpy()
    start, stop = int(offsets[0]), int(offsets[-1])
    keys, items = maps.keys.slice(start, stop - start), maps.items.slice(start, stop - start)
    entries = pa.StructArray.from_arrays([keys, items], names=["K", "V"])
    if ordered:
        parents = np.repeat(np.arange(n), np.diff(offsets))
        order = pc.sort_indices(pa.table({"p": parents, "k": keys}), sort_keys=[("p", "ascending"), ("k", "ascending")])
        entries = entries.take(order)
    return pa.ListArray.from_arrays(pa.array(offsets - start, pa.int32()), entries, mask=maps.is_null())


# ---------------------------------------------------------------- collections

fn("ARRAY_LENGTH", "ARRAY", "The number of elements.", overloads(sig(ARRAY, ret=I)),
   lambda v, n: pc.list_value_length(v[0]), "ARRAY_LENGTH(a ARRAY)")
fn("ARRAY_CONTAINS", "ARRAY", "Whether an array holds a value.", overloads(sig(ARRAY, ANY, ret=B)),
   with_fallback(array_contains, lambda a, x: None if a is None else x in a, null_on_null=False),
   "ARRAY_CONTAINS(a, value)")


def _distinct(a):
    out = []
    for x in a:
        if x not in out:
            out.append(x)
    return out


def _sortable(x):
    return (x is None, x)


fn("ARRAY_DISTINCT", "ARRAY", "The distinct elements, in order of first appearance.",
   overloads(sig(ARRAY, ret=arrays_type)), with_fallback(array_distinct, _distinct), "ARRAY_DISTINCT(a)")
fn("ARRAY_EXCEPT", "ARRAY", "The distinct elements of a that are not in b.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(array_set("EXCEPT"), lambda a, b: [x for x in _distinct(a) if x not in b]),
   "ARRAY_EXCEPT(a, b)")
fn("ARRAY_INTERSECT", "ARRAY", "The distinct elements in both arrays.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(array_set("INTERSECT"), lambda a, b: [x for x in _distinct(a) if x in b]),
   "ARRAY_INTERSECT(a, b)")
fn("ARRAY_UNION", "ARRAY", "The distinct elements of either array.",
   overloads(sig(ARRAY, ARRAY, ret=arrays_type)), with_fallback(array_set("UNION"), lambda a, b: _distinct(a + b)),
   "ARRAY_UNION(a, b)")
fn("ARRAY_CONCAT", "ARRAY", "The elements of a, then of b.", overloads(sig(ARRAY, ARRAY, ret=arrays_type)),
   with_fallback(array_concat, lambda a, b: None if a is None and b is None else (a or []) + (b or []),
                 null_on_null=False),
   "ARRAY_CONCAT(a, b)")
fn("ARRAY_REMOVE", "ARRAY", "The array without every element equal to a value.",
   overloads(sig(ARRAY, ANY, ret=arrays_type)),
   with_fallback(array_remove, lambda a, x: None if a is None else [e for e in a if e != x], null_on_null=False),
   "ARRAY_REMOVE(a, value)")
fn("ARRAY_MAX", "ARRAY", "The largest element, ignoring NULLs.", overloads(sig(ARRAY, ret=element_type)),
   with_fallback(array_extreme("max"), lambda a: max((x for x in a if x is not None), default=None)),
   "ARRAY_MAX(a)")
fn("ARRAY_MIN", "ARRAY", "The smallest element, ignoring NULLs.", overloads(sig(ARRAY, ret=element_type)),
   with_fallback(array_extreme("min"), lambda a: min((x for x in a if x is not None), default=None)),
   "ARRAY_MIN(a)")


def _array_sort(a, direction="ASC"):
    present = sorted(x for x in a if x is not None)
    if direction.upper() == "DESC":
        present.reverse()
    return present + [None] * (len(a) - len(present))


fn("ARRAY_SORT", "ARRAY", "The elements sorted ASC (default) or DESC, NULLs last.",
   overloads(sig(ARRAY, ret=arrays_type), sig(ARRAY, S, ret=arrays_type)),
   with_fallback(array_sort, _array_sort),
   "ARRAY_SORT(a [, direction])")


def _array_join_row(a, *sep):
    delimiter = sep[0] if sep else ","
    if a is None:
        return None
    return (delimiter or "").join("null" if x is None else _text(x) for x in a)


def _text(x):
    return x if isinstance(x, str) else format_value(x)


fn("ARRAY_JOIN", "ARRAY", "The elements as text, joined by a delimiter (default ',').",
   overloads(sig(ARRAY, ret=S), sig(ARRAY, S, ret=S)),
   with_fallback(array_join, _array_join_row, null_on_null=False), "ARRAY_JOIN(a [, delimiter])")


def _slice(a, start, end):
    return a[start - 1:end] if start >= 1 and end >= start else None


fn("SLICE", "ARRAY", "Elements from a 1-based start to an end position, inclusive.",
   overloads(sig(ARRAY, I, I, ret=arrays_type)), with_fallback(slice_list, _slice),
   "SLICE(a, from, to)")


def _map_type(types):
    t = types[0]
    return t if t is not None else T.map_of(S, S)


fn("MAP_KEYS", "MAP", "The keys of a map.", overloads(sig(MAP, ret=lambda t: T.array(t[0].params[0] if t[0] else S))),
   with_fallback(map_part("keys"), lambda m: [k for k, _ in m]), "MAP_KEYS(m)")
fn("MAP_VALUES", "MAP", "The values of a map.",
   overloads(sig(MAP, ret=lambda t: T.array(t[0].params[1] if t[0] else S))),
   with_fallback(map_part("values"), lambda m: [v for _, v in m]), "MAP_VALUES(m)")


def _map_union(a, b):
    merged = dict(a or [])
    merged.update(dict(b or []))
    return list(merged.items())


fn("MAP_UNION", "MAP", "Both maps' entries; the second wins on equal keys.", overloads(sig(MAP, MAP, ret=_map_type)),
   lambda v, n: [None if a is None and b is None else _map_union(a, b) for a, b in rows(v, n)], "MAP_UNION(a, b)")


def _as_map_type(types):
    keys, values = types
    return T.map_of(S, values.params[0] if values is not None else S)


fn("AS_MAP", "MAP", "A map from an array of keys and an array of values.",
   overloads(sig(ARRAY, ARRAY, ret=_as_map_type)), per_row(lambda k, v: list(dict(zip(k, v)).items())),
   "AS_MAP(keys, values)")


def _entries_type(types):
    value = types[0].params[1] if types[0] is not None else S
    return T.array(T.struct([("K", S), ("V", value)]))


fn("ENTRIES", "MAP", "The entries of a map as an array of STRUCT<K, V>, optionally sorted by key.",
   overloads(sig(MAP, B, ret=_entries_type)),
   with_fallback(map_entries, lambda m, ordered: [{"K": k, "V": v} for k, v in (sorted(m) if ordered else m)]),
   "ENTRIES(m, sorted)")
fn("ELT", "STRING", "The n-th of the following arguments (1-based).", overloads(sig(I, S, ret=S, variadic=True)),
   with_fallback(elt, lambda i, *args: None if i is None or not 1 <= i <= len(args) else args[i - 1],
                 null_on_null=False), "ELT(n, s1, s2, ...)")
fn("FIELD", "STRING", "The 1-based position of a string among the following arguments (0 if absent).",
   overloads(sig(S, S, ret=I, variadic=True)),
   with_fallback(field, lambda s, *args: 0 if s is None else next((i for i, x in enumerate(args, 1) if x == s), 0),
                 null_on_null=False), "FIELD(s, s1, s2, ...)")
