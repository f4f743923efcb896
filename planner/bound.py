"""Typed expression trees: what binding (binder.py) makes of an AST expression.

Every node knows its SQL type, every name is resolved to the batch column that holds it, and
every implicit conversion is an explicit Cast node, so the runtime compiles a tree without
checking anything (runtime/expressions/). Nodes are frozen: two trees of the same expression
compare equal, and str() prints one as SQL with its casts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ksql.planner.types import SqlType

# calls whose value differs between rows even when their arguments do not
VOLATILE = frozenset({"RANDOM", "UUID"})


class Expr:
    """A typed expression; `type` is None only for an untyped NULL literal."""

    __slots__ = ()
    type: SqlType | None

    def children(self) -> tuple["Expr", ...]:
        return ()

    @property
    def constant(self) -> bool:
        """Whether it has the same value on every row: no column, no volatile call, no lambda."""
        return all(child.constant for child in self.children())


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    type: SqlType | None
    value: object

    def __str__(self):
        if self.value is None:
            return "NULL" if self.type is None else f"CAST(NULL AS {self.type})"
        if isinstance(self.value, bool):
            return "TRUE" if self.value else "FALSE"
        return f"'{self.value}'" if isinstance(self.value, str) else str(self.value)


@dataclass(frozen=True, slots=True)
class Column(Expr):
    type: SqlType
    field: str  # the batch column that holds it

    @property
    def constant(self) -> bool:
        return False

    def __str__(self):
        return self.field


@dataclass(frozen=True, slots=True)
class Cast(Expr):
    type: SqlType
    operand: Expr

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"CAST({self.operand} AS {self.type})"


@dataclass(frozen=True, slots=True)
class Arithmetic(Expr):
    """+ - * / % on numbers; both operands already of the types the operator works in."""
    type: SqlType
    op: str
    left: Expr
    right: Expr

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, slots=True)
class Concat(Expr):
    type: SqlType
    left: Expr
    right: Expr

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} || {self.right})"


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """= <> < <= > >= of two values of comparable types; NULL compares as false."""
    type: SqlType
    op: str
    left: Expr
    right: Expr

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, slots=True)
class NestedEqual(Expr):
    """ARRAY, MAP or STRUCT (in)equality, element by element."""
    type: SqlType
    left: Expr
    right: Expr
    negated: bool

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} {'<>' if self.negated else '='} {self.right})"


@dataclass(frozen=True, slots=True)
class TimestampText(Expr):
    """A (partial) timestamp text as epoch milliseconds, to compare with ROWTIME and window bounds."""
    type: SqlType
    operand: Expr

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"MILLIS({self.operand})"


@dataclass(frozen=True, slots=True)
class Logical(Expr):
    type: SqlType
    op: str  # AND, OR
    left: Expr
    right: Expr

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, slots=True)
class Not(Expr):
    type: SqlType
    operand: Expr

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"(NOT {self.operand})"


@dataclass(frozen=True, slots=True)
class Negate(Expr):
    type: SqlType | None
    operand: Expr

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"(-{self.operand})"


@dataclass(frozen=True, slots=True)
class IsNull(Expr):
    type: SqlType
    operand: Expr
    negated: bool

    def children(self):
        return (self.operand,)

    def __str__(self):
        return f"({self.operand} IS {'NOT ' if self.negated else ''}NULL)"


@dataclass(frozen=True, slots=True)
class Like(Expr):
    type: SqlType
    value: Expr
    pattern: Expr
    escape: str | None
    negated: bool

    def children(self):
        return (self.value, self.pattern)

    def __str__(self):
        escape = f" ESCAPE '{self.escape}'" if self.escape is not None else ""
        return f"({self.value} {'NOT ' if self.negated else ''}LIKE {self.pattern}{escape})"


@dataclass(frozen=True, slots=True)
class IsDistinct(Expr):
    type: SqlType
    left: Expr
    right: Expr
    negated: bool  # IS NOT DISTINCT FROM

    def children(self):
        return (self.left, self.right)

    def __str__(self):
        return f"({self.left} IS {'NOT ' if self.negated else ''}DISTINCT FROM {self.right})"


@dataclass(frozen=True, slots=True)
class Case(Expr):
    """Searched CASE; every result already of the CASE's type."""
    type: SqlType
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None

    def children(self):
        parts = tuple(e for pair in self.whens for e in pair)
        return parts + ((self.default,) if self.default is not None else ())

    def __str__(self):
        whens = " ".join(f"WHEN {c} THEN {r}" for c, r in self.whens)
        default = f" ELSE {self.default}" if self.default is not None else ""
        return f"CASE {whens}{default} END"


@dataclass(frozen=True, slots=True)
class Subscript(Expr):
    """An ARRAY's element (1-based, negative from the end) or a MAP's value."""
    type: SqlType
    base: Expr
    index: Expr

    def children(self):
        return (self.base, self.index)

    def __str__(self):
        return f"{self.base}[{self.index}]"


@dataclass(frozen=True, slots=True)
class Field(Expr):
    """A STRUCT's field."""
    type: SqlType
    base: Expr
    name: str

    def children(self):
        return (self.base,)

    def __str__(self):
        return f"{self.base}->{self.name}"


@dataclass(frozen=True, slots=True)
class ArrayOf(Expr):
    type: SqlType
    items: tuple[Expr, ...]

    def children(self):
        return self.items

    def __str__(self):
        return f"ARRAY[{', '.join(map(str, self.items))}]"


@dataclass(frozen=True, slots=True)
class StructOf(Expr):
    type: SqlType
    names: tuple[str, ...]
    items: tuple[Expr, ...]

    def children(self):
        return self.items

    def __str__(self):
        return f"STRUCT({', '.join(f'{n} := {e}' for n, e in zip(self.names, self.items))})"


@dataclass(frozen=True, slots=True)
class MapOf(Expr):
    """A MAP (a NULL STRING key is the text 'null', a NULL key of another type makes the row's
    map NULL); the last value of a key wins."""
    type: SqlType
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]

    def children(self):
        return self.keys + self.values

    def __str__(self):
        return f"MAP({', '.join(f'{k} := {v}' for k, v in zip(self.keys, self.values))})"


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A scalar function, with the overload its argument types chose (`function`: the library's
    evaluate, (argument arrays or scalars, rows) -> array)."""
    type: SqlType
    name: str
    args: tuple[Expr, ...]
    function: Callable = field(compare=False, repr=False)

    @property
    def constant(self) -> bool:
        return self.name not in VOLATILE and all(a.constant for a in self.args)

    def children(self):
        return self.args

    def __str__(self):
        return f"{self.name}({', '.join(map(str, self.args))})"

    def __reduce__(self):
        # A function's evaluate is often a closure, which pickle cannot name: a plan sent to
        # another process (runtime/workers.py) finds it again there by name and argument types.
        return _call_of, (self.type, self.name, self.args)


def _call_of(type_: SqlType, name: str, args: tuple) -> Call:
    from ksql.planner.functions import resolve_call  # (the library registers itself on import)

    return Call(type_, name, args, resolve_call(name, [a.type for a in args])[2])


@dataclass(frozen=True, slots=True)
class Lambda(Expr):
    """A lambda's body over its parameters, which it reads as the batch columns `params`."""
    type: SqlType | None
    params: tuple[str, ...]
    body: Expr

    def __str__(self):
        return f"({', '.join(self.params)}) => {self.body}"


@dataclass(frozen=True, slots=True)
class LambdaCall(Expr):
    """TRANSFORM (one lambda per array, two for a map's keys and values), FILTER or REDUCE
    (from `initial`)."""
    type: SqlType
    name: str
    collection: Expr
    lambdas: tuple[Lambda, ...]
    initial: Expr | None = None

    @property
    def constant(self) -> bool:
        return False  # its lambdas read their parameters' columns

    def children(self):
        return (self.collection,) + ((self.initial,) if self.initial is not None else ())

    def __str__(self):
        initial = f", {self.initial}" if self.initial is not None else ""
        lambdas = "".join(f", {lam}" for lam in self.lambdas)
        return f"{self.name}({self.collection}{initial}{lambdas})"


def fields_of(exprs) -> frozenset:
    """The batch columns these expressions read."""
    exprs, fields = list(exprs), set()
    while exprs:
        expr = exprs.pop()
        if isinstance(expr, Column):
            fields.add(expr.field)
        exprs += expr.children()
    return frozenset(fields)
