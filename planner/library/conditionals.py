"""NULL handling and conditionals: COALESCE, IFNULL, NULLIF, ..."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from ksql.planner import types as T
from ksql.planner.arrays import broadcast
from ksql.planner.functions import BadArguments, register
from ksql.planner.library.common import ANY, first_type, fn, overloads, sig


# ---------------------------------------------------------------- nulls and conditionals

def _coalesce_type(types):
    if not types:
        raise BadArguments("Function 'COALESCE' does not accept parameters ().")
    common = T.common_type(types)
    if common is None:
        if all(t is None for t in types):
            return T.STRING, [T.STRING] * len(types)
        raise BadArguments()
    return common, [common] * len(types)


def _coalesce(values, n):
    if len(values) == 1:
        return broadcast(values[0], n)
    return pc.coalesce(*[broadcast(v, n) for v in values])


register("COALESCE", "CONDITIONAL", "The first argument that is not NULL.", _coalesce_type, _coalesce,
         ("COALESCE(a, b, ...)",))
register("IFNULL", "CONDITIONAL", "The second argument when the first is NULL.",
         lambda types: _coalesce_type(types) if len(types) == 2 else (_ for _ in ()).throw(BadArguments()),
         _coalesce, ("IFNULL(a, b)",))


def _nullif(values, n):
    a, b = broadcast(values[0], n), broadcast(values[1], n)
    if pa.types.is_nested(a.type):  # lists, maps and structs compare element by element
        equal = pa.array([x is not None and x == y for x, y in zip(a.to_pylist(), b.to_pylist())])
    else:
        equal = pc.fill_null(pc.equal(a, b), False)
    return pc.if_else(equal, pa.scalar(None, a.type), a)


register("NULLIF", "CONDITIONAL", "NULL when both arguments are equal, else the first.",
         lambda types: ((types[0] or types[1] or T.STRING), [types[0] or types[1]] * 2) if len(types) == 2
         else (_ for _ in ()).throw(BadArguments()), _nullif, ("NULLIF(a, b)",))
fn("AS_VALUE", "", "Copies a key column into the value.", overloads(sig(ANY, ret=first_type)),
   lambda v, n: broadcast(v[0], n), "AS_VALUE(key)")
