"""User-defined functions in Python: scalar (@udf), aggregate (@udaf) and table (@udtf).

    from ksql.udf import udf, udaf, udtf

    @udf("REVERSE", returns="STRING", params=["STRING"], description="The string backwards.")
    def reverse(s):
        return s[::-1]

    @udf("TIMES_TWO", returns="BIGINT", params=["BIGINT"], vectorized=True)
    def times_two(values):            # a pyarrow array in, a pyarrow array out
        import pyarrow.compute as pc
        return pc.multiply(values, 2)

    @udaf("PRODUCT", returns="BIGINT", params=["BIGINT"])
    class Product:
        def init(self): return 1
        def add(self, state, value): return state if value is None else state * value
        def result(self, state): return state

    @udtf("CHARS", returns="STRING", params=["STRING"])
    def chars(s):
        return list(s)

Types are SQL type names as in CREATE STREAM ("STRING", "ARRAY<INT>", "DECIMAL(4, 2)").
A row UDF is called with Python values and skipped (NULL result) when any argument is NULL
unless null_safe=False. An exception in a UDF does not stop the query: the record goes to
the processing log with the error.

Functions are found in the `ksql.extension.dir` folder (every .py file there is imported)
and in installed packages that declare an entry point in the group "ksql.functions".
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pyarrow as pa

from ksql.errors import KsqlError


class UdfError(KsqlError):
    """A user function raised: the record goes to the processing log."""


def _type(text: str):
    from ksql.parser import parse_statement
    from ksql.planner import types as T

    statement = parse_statement(f"CREATE STREAM X (V {text}) WITH (KAFKA_TOPIC='x');")
    return T.from_ref(statement.columns[0].type)


def _resolver(name: str, params: list[str], returns: str, variadic: bool):
    from ksql.planner.builtins import overloads, sig

    param_types = [_type(p) for p in params]
    return overloads(sig(*param_types, ret=_type(returns), variadic=variadic))


def udf(name: str, returns: str, params: list[str], description: str = "", vectorized: bool = False,
        null_safe: bool = True, variadic: bool = False):
    """Register a scalar function."""
    from ksql.planner.functions import register, rows

    def decorate(function):
        upper = name.upper()
        if vectorized:
            def evaluate(values, n):
                try:
                    return function(*[_array(v, n) for v in values])
                except Exception as error:  # noqa: BLE001 - reported per record by the query
                    raise UdfError(f"{upper} failed: {error}") from error
        else:
            def evaluate(values, n):
                out = []
                for args in rows(values, n):
                    if null_safe and None in args:
                        out.append(None)
                        continue
                    try:
                        out.append(function(*args))
                    except Exception as error:  # noqa: BLE001
                        raise UdfError(f"{upper} failed: {error}") from error
                return out
        signature = f"{upper}({', '.join(params)}) -> {returns}"
        register(upper, "USER", description or (function.__doc__ or "").strip().split("\n")[0],
                 _resolver(upper, params, returns, variadic), evaluate, (signature,))
        return function
    return decorate


def _array(value, n):
    from ksql.planner.expressions import broadcast

    return broadcast(value, n) if isinstance(value, (pa.Scalar, pa.Array)) else value


def udaf(name: str, returns: str, params: list[str], description: str = ""):
    """Register an aggregate function: a class with init(), add(state, *args), result(state),
    and optionally undo(state, *args) (for tables) and merge(a, b) (for session windows)."""
    from ksql.planner.aggregates import Aggregate, register

    def decorate(cls):
        instance = cls()
        result_type = _type(returns)
        register(Aggregate(name.upper(), description or (cls.__doc__ or "").strip(),
                           lambda types: result_type, instance.init, instance.add, instance.result,
                           getattr(instance, "undo", None), getattr(instance, "merge", None)))
        return cls
    return decorate


def udtf(name: str, returns: str, params: list[str], description: str = ""):
    """Register a table function: returns a list; each element becomes a row."""
    def decorate(function):
        udf(name, f"ARRAY<{returns}>", params, description)(function)
        from ksql.planner import plan

        if name.upper() not in plan.TABLE_FUNCTIONS:
            plan.TABLE_FUNCTIONS = plan.TABLE_FUNCTIONS + (name.upper(),)
        return function
    return decorate


_loaded: set[str] = set()


def load_extensions(directory: str | None) -> list[str]:
    """Import every .py file of an extension folder and every 'ksql.functions' entry point."""
    loaded = []
    if directory:
        for path in sorted(Path(directory).glob("*.py")):
            key = str(path.resolve())
            if key in _loaded:
                continue
            spec = importlib.util.spec_from_file_location(f"ksql_extension_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            _loaded.add(key)
            loaded.append(path.name)
    try:
        from importlib.metadata import entry_points

        for point in entry_points(group="ksql.functions"):
            if point.value not in _loaded:
                point.load()
                _loaded.add(point.value)
                loaded.append(point.name)
    except Exception:  # noqa: BLE001 - a broken third-party package must not stop the engine
        pass
    return loaded
