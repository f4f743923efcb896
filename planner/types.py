"""SQL types as ksqlDB has them, and their Arrow representation."""
from __future__ import annotations

import decimal
from dataclasses import dataclass

import pyarrow as pa

from ksql.parser.errors import KsqlStatementError

# DECIMAL values have up to 38 digits, and sums and products of them more, before they are
# rounded to their type: Python's default of 28 significant digits would round (or refuse)
# them first. Every thread's decimal context starts from DefaultContext.
decimal.DefaultContext.prec = 100
decimal.getcontext().prec = 100

_ALIASES = {"INT": "INTEGER", "VARCHAR": "STRING"}
PRIMITIVES = ("BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES", "DATE", "TIME", "TIMESTAMP")


@dataclass(frozen=True, slots=True)
class SqlType:
    """A SQL type. `params` holds (precision, scale) for DECIMAL, (element,) for ARRAY,
    (key, value) for MAP and ((name, type), ...) for STRUCT."""

    base: str
    params: tuple = ()

    def __str__(self) -> str:
        if self.base == "DECIMAL":
            return f"DECIMAL({self.params[0]}, {self.params[1]})"
        if self.base == "ARRAY":
            return f"ARRAY<{self.params[0]}>"
        if self.base == "MAP":
            return f"MAP<{self.params[0]}, {self.params[1]}>"
        if self.base == "STRUCT":
            return "STRUCT<" + ", ".join(f"`{n}` {t}" for n, t in self.params) + ">"
        return self.base

    @property
    def is_numeric(self) -> bool:
        return self.base in ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")

    @property
    def precision(self) -> int:
        return self.params[0]

    @property
    def scale(self) -> int:
        return self.params[1]

    def field(self, name: str) -> "SqlType | None":
        for field_name, field_type in self.params:
            if field_name == name:
                return field_type
        return None


BOOLEAN = SqlType("BOOLEAN")
INTEGER = SqlType("INTEGER")
BIGINT = SqlType("BIGINT")
DOUBLE = SqlType("DOUBLE")
STRING = SqlType("STRING")
BYTES = SqlType("BYTES")
DATE = SqlType("DATE")
TIME = SqlType("TIME")
TIMESTAMP = SqlType("TIMESTAMP")


def decimal(precision: int, scale: int) -> SqlType:
    if not 1 <= precision <= 38:
        raise KsqlStatementError(f"DECIMAL precision must be between 1 and 38: {precision}")
    if not 0 <= scale <= precision:
        raise KsqlStatementError(
            f"DECIMAL scale must be between 0 and the precision {precision}: {scale}")
    return SqlType("DECIMAL", (precision, scale))


def array(element: SqlType) -> SqlType:
    return SqlType("ARRAY", (element,))


def map_of(key: SqlType, value: SqlType) -> SqlType:
    return SqlType("MAP", (key, value))


def struct(fields) -> SqlType:
    return SqlType("STRUCT", tuple(fields))


def from_ref(ref, custom_types: dict | None = None) -> SqlType:
    """Resolve a parsed type reference (ksql.parser.ast.TypeRef)."""
    name = _ALIASES.get(ref.name, ref.name)
    if name in PRIMITIVES and name != "DECIMAL":
        if ref.params and name != "STRING":
            raise KsqlStatementError(f"Unexpected parameters for type {ref.name}")
        return SqlType(name)
    if name == "DECIMAL":
        return decimal(*ref.params)
    if name == "ARRAY" and ref.params:
        return array(from_ref(ref.params[0], custom_types))
    if name == "MAP" and ref.params:
        return map_of(from_ref(ref.params[0], custom_types), from_ref(ref.params[1], custom_types))
    if name == "STRUCT":
        return struct((n, from_ref(t, custom_types)) for n, t in ref.params)
    if custom_types and ref.name in custom_types:
        return custom_types[ref.name]
    raise KsqlStatementError(f"Unknown type: {ref.name}")


def maps_in(sql_type: SqlType | None):
    """Every MAP type within a type (itself, and inside its structs, arrays and maps)."""
    if sql_type is None:
        return
    if sql_type.base == "MAP":
        yield sql_type
    if sql_type.base == "STRUCT":
        for _, field_type in sql_type.params:
            yield from maps_in(field_type)
    elif sql_type.base in ("ARRAY", "MAP"):
        for param in sql_type.params:
            yield from maps_in(param)


def to_arrow(t: SqlType) -> pa.DataType:
    base = t.base
    if base == "BOOLEAN":
        return pa.bool_()
    if base == "INTEGER":
        return pa.int32()
    if base == "BIGINT":
        return pa.int64()
    if base == "DOUBLE":
        return pa.float64()
    if base == "STRING":
        return pa.string()
    if base == "BYTES":
        return pa.binary()
    if base == "DATE":
        return pa.date32()
    if base == "TIME":
        return pa.time32("ms")
    if base == "TIMESTAMP":
        return pa.timestamp("ms")
    if base == "DECIMAL":
        return pa.decimal128(t.precision, t.scale)
    if base == "ARRAY":
        return pa.list_(to_arrow(t.params[0]))
    if base == "MAP":
        return pa.map_(to_arrow(t.params[0]), to_arrow(t.params[1]))
    if base == "STRUCT":
        return pa.struct([(n, to_arrow(ft)) for n, ft in t.params])
    raise KsqlStatementError(f"No Arrow type for {t}")


def from_arrow(t: pa.DataType) -> SqlType:
    if pa.types.is_boolean(t):
        return BOOLEAN
    if pa.types.is_int32(t) or pa.types.is_int16(t) or pa.types.is_int8(t):
        return INTEGER
    if pa.types.is_integer(t):
        return BIGINT
    if pa.types.is_floating(t):
        return DOUBLE
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return STRING
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return BYTES
    if pa.types.is_date(t):
        return DATE
    if pa.types.is_time(t):
        return TIME
    if pa.types.is_timestamp(t):
        return TIMESTAMP
    if pa.types.is_decimal(t):
        return decimal(t.precision, t.scale)
    if pa.types.is_map(t):
        return map_of(from_arrow(t.key_type), from_arrow(t.item_type))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return array(from_arrow(t.value_type))
    if pa.types.is_struct(t):
        return struct((t.field(i).name, from_arrow(t.field(i).type)) for i in range(t.num_fields))
    if pa.types.is_null(t):
        return STRING
    raise KsqlStatementError(f"No SQL type for Arrow type {t}")


# Implicit widening: INTEGER -> BIGINT -> DECIMAL -> DOUBLE.
_NUMERIC_RANK = {"INTEGER": 0, "BIGINT": 1, "DECIMAL": 2, "DOUBLE": 3}


def integer_decimal(t: SqlType) -> SqlType:
    """The DECIMAL that holds every value of an integer type."""
    return decimal(10, 0) if t.base == "INTEGER" else decimal(19, 0)


def common_numeric(a: SqlType, b: SqlType) -> SqlType:
    """The type both numeric operands are widened to."""
    if a.base == b.base and a.base != "DECIMAL":
        return a
    rank = max(_NUMERIC_RANK[a.base], _NUMERIC_RANK[b.base])
    if rank == 3:
        return DOUBLE
    if rank == 2:
        da = a if a.base == "DECIMAL" else integer_decimal(a)
        db = b if b.base == "DECIMAL" else integer_decimal(b)
        scale = max(da.scale, db.scale)
        digits = max(da.precision - da.scale, db.precision - db.scale)
        return decimal(min(digits + scale, 38), scale)
    return BIGINT if rank == 1 else INTEGER


def common_type(types: list[SqlType]) -> SqlType | None:
    """The type a list of values (CASE branches, IN lists, array items) shares, or None."""
    known = [t for t in types if t is not None]
    if not known:
        return None
    result = known[0]
    for t in known[1:]:
        if t == result:
            continue
        if t.is_numeric and result.is_numeric:
            result = common_numeric(result, t)
        else:
            return None
    return result
