"""Binding makes typed expression trees: every name resolved to its batch column, every
implicit conversion an explicit Cast, printable and comparable; the runtime compiles them."""
from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from ksql.parser import parse_expression
from ksql.parser.errors import KsqlStatementError
from ksql.planner import bound as B
from ksql.planner import types as T
from ksql.planner.binder import bind
from ksql.planner.scope import Scope
from ksql.runtime.expressions.compile import compile_expr


def scope() -> Scope:
    s = Scope()
    s.add("S", "I", "S__I", T.INTEGER)
    s.add("S", "L", "S__L", T.BIGINT)
    s.add("S", "NAME", "S__NAME", T.STRING)
    s.add("S", "XS", "S__XS", T.array(T.INTEGER))
    return s


def bound(text: str) -> B.Expr:
    return bind(parse_expression(text), scope())


BATCH = pa.RecordBatch.from_pydict({
    "S__I": pa.array([1, 2, None], pa.int32()),
    "S__L": pa.array([10, 20, 30], pa.int64()),
    "S__NAME": pa.array(["ann", None, "bo"]),
    "S__XS": pa.array([[1, 2], [], None], pa.list_(pa.int32())),
})


def values(text: str) -> list:
    return compile_expr(bound(text)).column(BATCH).to_pylist()


def test_implicit_conversions_are_explicit_casts():
    tree = bound("i + l")
    assert tree == B.Arithmetic(T.BIGINT, "+", B.Cast(T.BIGINT, B.Column(T.INTEGER, "S__I")),
                                B.Column(T.BIGINT, "S__L"))
    assert str(tree) == "(CAST(S__I AS BIGINT) + S__L)"


def test_decimal_arithmetic_is_typed_as_ksqldb_sizes_it():
    tree = bound("i * 1.50")
    assert tree.type == T.decimal(14, 2)  # DECIMAL(10,0) * DECIMAL(3,2)
    assert str(tree) == "(CAST(S__I AS DECIMAL(10, 0)) * 1.50)"


def test_trees_compare_by_what_they_compute():
    assert bound("UCASE(name) = 'ANN'") == bound("UCASE(name) = 'ANN'")
    assert bound("UCASE(name) = 'ANN'") != bound("LCASE(name) = 'ANN'")
    # a lambda's parameters are named by their depth, so binding twice gives the same tree
    assert bound("TRANSFORM(xs, x => x * i)") == bound("TRANSFORM(xs, x => x * i)")
    assert hash(bound("i BETWEEN 1 AND 2")) == hash(bound("i BETWEEN 1 AND 2"))


def test_a_call_holds_the_overload_and_its_arguments_cast():
    tree = bound("ABS(i)")
    assert isinstance(tree, B.Call) and tree.name == "ABS" and tree.type == T.INTEGER
    # GREATEST's arguments share one type: the INTEGER is widened before the call (with a
    # DOUBLE: INTEGER with BIGINT is ambiguous in ksqlDB, which has an overload for each)
    widened = bound("GREATEST(i, 2.5e0)")
    assert widened.type == T.DOUBLE and str(widened) == "GREATEST(CAST(S__I AS DOUBLE), 2.5)"
    with pytest.raises(KsqlStatementError, match="ambiguous method parameters"):
        bound("GREATEST(i, l)")


def test_constant_means_no_column_and_no_volatile_call():
    assert bound("CONCAT('a', 'b')").constant
    assert not bound("CONCAT(name, 'b')").constant
    assert not bound("RANDOM()").constant


def test_the_runtime_compiles_every_node_kind():
    assert values("i + l") == [11, 22, None]
    assert values("i > 1") == [False, True, False]  # a NULL compares as false in ksqlDB
    assert values("name LIKE 'a%'") == [True, None, False]
    assert values("name LIKE CONCAT('a', '%')") == [True, None, False]  # a constant pattern, computed once
    assert values("name LIKE CASE WHEN i = 1 THEN 'a%' ELSE 'b%' END") == [True, None, True]  # per row
    assert values("name IS NULL") == [False, True, False]
    assert values("CASE WHEN i = 1 THEN 'one' ELSE 'other' END") == ["one", "other", "other"]
    assert values("xs[1]") == [1, None, None]
    assert values("TRANSFORM(xs, x => x * 10)") == [[10, 20], [], None]
    assert values("REDUCE(xs, 0, (s, x) => s + x)") == [3, 0, 0]
    assert values("FILTER(xs, x => x > 1)") == [[2], [], None]
    assert values("CAST(l AS DECIMAL(4, 1))") == [Decimal("10.0"), Decimal("20.0"), Decimal("30.0")]
    assert values("STRUCT(a := i)->a") == [1, 2, None]
    assert values("MAP('k' := i)['k']") == [1, 2, None]
    assert values("ARRAY[i, 5]") == [[1, 5], [2, 5], [None, 5]]
    assert values("i IS DISTINCT FROM 2") == [True, False, True]
    assert values("-l") == [-10, -20, -30]
    assert values("NOT (i = 1)") == [False, True, True]
    assert values("name || '!'") == ["ann!", None, "bo!"]


def test_binding_refuses_with_ksqldbs_texts():
    with pytest.raises(KsqlStatementError, match="Cannot negate NAME of type STRING"):
        bound("-name")
    with pytest.raises(KsqlStatementError, match="Column 'NOPE' cannot be resolved."):
        bound("nope + 1")
    with pytest.raises(KsqlStatementError, match="Comparison with NULL not supported"):
        bound("i = NULL")


def test_in_lists_as_ksqldb_evaluates_them():
    """The docs (quick-reference, IN) make `x IN (a, b)` `x = a OR x = b`; ksqlDB's
    InListEvaluator adds: NULL literals are dropped from the list, NULL matches nothing (so
    NOT IN holds for a NULL value), and string literals take the value's type."""
    assert values("i IN (1, 3)") == [True, False, False]
    assert values("i IN (1, NULL)") == [True, False, False]
    assert values("i NOT IN (1, NULL)") == [False, True, True]
    assert values("i IN (NULL)") == [False, False, False]
    assert values("i IN ('1', 2)") == [True, True, False]
    assert values("l IN (10, 20.0)") == [True, True, False]
    assert values("i IN (l, 2)") == [False, True, False]  # a column item: each row's own value
    assert values("xs IN (ARRAY[1, 2], ARRAY[3])") == [True, False, False]
    assert values("xs NOT IN (ARRAY[1, 2])") == [False, True, True]
    with pytest.raises(KsqlStatementError, match='invalid input syntax for type INTEGER: "a"'):
        bound("i IN ('a')")
