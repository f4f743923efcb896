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
unless null_safe=False. An exception in a UDF does not stop the query: the expression that
called it is NULL for that record (in WHERE, the record is left out), and the error goes to
the processing log.

Functions are found in the `ksql.extension.dir` folder (every .py file there is imported)
and in installed packages that declare an entry point in the group "ksql.functions".
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from ksql.errors import KsqlError
from ksql.parser import parse_statement
from ksql.planner import aggregates, plan
from ksql.planner import types as T
from ksql.planner.library.common import _fits

from ksql.planner.library import FUNCTIONS, BadArguments, register, rows
from ksql.planner.arrays import broadcast
from ksql.planner.aggregates import AGGREGATES, Aggregate


class UdfError(KsqlError):
    """A user function raised: its expression is NULL for the record, the error logged."""


def _type(text: str):
    statement = parse_statement(f"CREATE STREAM X (V {text}) WITH (KAFKA_TOPIC='x');")
    return T.from_ref(statement.columns[0].type)


ANY = "ANY"  # a parameter that takes any type


@dataclass
class _Overload:
    params: list  # SqlType or ANY
    returns: object  # SqlType, or a function of the argument types
    variadic: bool | int  # True: the last parameter repeats; an index: that one does
    target: object  # the evaluate function (udf) or the Aggregate (udaf)
    row_params: int | None = None  # a udaf's parameters taken per row (the rest: its init arguments)


# Every signature declared for a user function name, in declaration order.
_OVERLOADS: dict[str, list[_Overload]] = {}


def _param(text: str):
    return ANY if text.upper() == ANY else _type(text)


def _variadic_index(overload: _Overload) -> int | None:
    if overload.variadic is True:
        return len(overload.params) - 1
    return None if overload.variadic is False else overload.variadic


def _expand(overload: _Overload, count: int) -> list | None:
    params = overload.params
    at = _variadic_index(overload)
    if at is not None:
        if count < len(params) - 1:
            return None
        return list(params[:at]) + [params[at]] * (count - len(params) + 1) + list(params[at + 1:])
    return list(params) if count == len(params) else None


def _init_count(overload: _Overload, count: int) -> int:
    """How many of `count` arguments are a udaf's init arguments (the trailing ones)."""
    if overload.row_params is None:
        return 0
    at = _variadic_index(overload)
    extra = count - len(overload.params)  # arguments the variadic parameter takes beyond one
    rows = overload.row_params + (extra if at is not None and at < overload.row_params else 0)
    return count - rows


def _choose(name: str, types: list, shown_name: str) -> tuple[_Overload, list]:
    """The overload for these argument types: an exact match first, then one reached by
    implicit widening (INT -> BIGINT -> DECIMAL -> DOUBLE), as ksqlDB chooses."""
    candidates = [(o, _expand(o, len(types))) for o in _OVERLOADS[name]]
    candidates = [(o, params) for o, params in candidates if params is not None]
    for exact in (True, False):
        for overload, params in candidates:
            if all(t is None or p == ANY or t == p or (not exact and _fits(t, p))
                   for t, p in zip(types, params)):
                return overload, params
    shown = ", ".join(str(t) if t else "null" for t in types)

    raise BadArguments(f"Function '{shown_name}' does not accept parameters ({shown}).")


def _return_type(overload: _Overload, types: list):
    return overload.returns(types) if callable(overload.returns) else overload.returns


def _declare(name: str, params: list[str], returns, variadic: bool | int, target,
             row_params: int | None = None) -> bool:
    """Record one signature; True when it is the name's first."""
    first = name not in _OVERLOADS
    result = returns if callable(returns) else _type(returns)
    _OVERLOADS.setdefault(name, []).append(_Overload([_param(p) for p in params], result, variadic, target,
                                                     row_params))
    return first


def _signature(name: str, params: list[str], returns, variadic: bool) -> str:
    shown = ", ".join(params) + ("..." if variadic else "")
    return f"{name}({shown}) -> {returns if isinstance(returns, str) else 'depends on the arguments'}"


def udf(name: str, returns, params: list[str], description: str = "", vectorized: bool = False,
        null_safe: bool = True, variadic: bool = False, author: str = "", version: str = "",
        category: str = "USER"):
    """Register a scalar function. Declaring the same name again adds an overload.
    `returns` is a SQL type name, or a function from the argument types to the result type.
    `author` and `version` show in DESCRIBE FUNCTION, `category` in SHOW FUNCTIONS.

    The function may be a class: an instance is made, called with each row's values, and
    given the engine's settings for it through configure(settings) if it has that method."""
    upper = name.upper()

    def decorate(target):
        function = _instance(upper, target)
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
        _declare(upper, params, returns, variadic, evaluate)
        signatures = [_signature(upper, params, returns, variadic)]
        existing = FUNCTIONS.get(upper)
        if existing is not None and existing.user:
            signatures = list(existing.signatures) + signatures
            description_text = existing.description
        else:
            description_text = description or (target.__doc__ or "").strip().split("\n")[0]
            DETAILS[upper] = {"author": author, "version": version}

        def resolve(types):
            overload, params_ = _choose(upper, types, upper.lower())
            wanted = [p if p != ANY else None for p in params_]
            return _return_type(overload, types), wanted, overload.target

        register(upper, category, description_text, resolve, evaluate, signatures, user=True)
        return target
    return decorate


def _instance(name: str, target):
    """What a UDF or UDAF declaration stands for: a function as it is, a class as an instance
    (one that has configure() gets the engine's settings for it at start-up)."""
    if not isinstance(target, type):
        return target
    instance = target()
    if hasattr(instance, "configure"):
        _CONFIGURABLE.setdefault(name, []).append(instance)
    return instance


def settings_for(name: str, properties: dict) -> dict:
    """The settings a user function is given: only those named for it
    (ksql.functions.<lowercase name>.*) or for every function (ksql.functions._global_.*)."""
    prefixes = (f"ksql.functions.{name.lower()}.", "ksql.functions._global_.")
    return {key: value for key, value in properties.items() if key.startswith(prefixes)}


def _array(value, n):
    return broadcast(value, n) if isinstance(value, (pa.Scalar, pa.Array)) else value


def udaf(name: str, returns, params: list[str], description: str = "", variadic: bool | int = False,
         init_params: list[str] = (), author: str = "", version: str = ""):
    """Register an aggregate function: a class with init(), add(state, *args), result(state),
    and optionally undo(state, *args) (for tables) and merge(a, b) (for session windows).
    Declaring the same name again adds an overload.

    `init_params` are the types of arguments given once per query, after the column arguments
    (they must be literals, as a ksqlDB UDAF factory's): add() receives them after each row's
    values. `variadic=True` lets the last parameter repeat, an index any one of them (counted
    over params then init_params)."""
    upper = name.upper()

    def decorate(cls):
        instance = _instance(upper, cls)
        aggregate = Aggregate(upper, description or (cls.__doc__ or "").strip(),
                              lambda types: _return_type(_choose(upper, types, upper)[0], types),
                              instance.init, instance.add, instance.result,
                              getattr(instance, "undo", None), getattr(instance, "merge", None))
        _declare(upper, list(params) + list(init_params), returns, variadic, aggregate,
                 len(params) if init_params else None)
        first = AGGREGATES.get(upper)
        description_text = first.description if first is not None else aggregate.description
        if first is None:
            DETAILS[upper] = {"author": author, "version": version}
        aggregates.register(Aggregate(upper, description_text, aggregate.resolve, aggregate.init, aggregate.add,
                           aggregate.result, aggregate.undo, aggregate.merge,
                           specialize=lambda types: _choose(upper, types, upper)[0].target,
                           init_args=lambda types: _init_count(_choose(upper, types, upper)[0], len(types))))
        return cls
    return decorate


def udtf(name: str, returns, params: list[str], description: str = "", variadic: bool = False,
         author: str = "", version: str = ""):
    """Register a table function: returns a list; each element becomes a row. Declaring the
    same name again adds an overload."""
    def decorate(function):
        result = (lambda types: _array_of(returns(types))) if callable(returns) else f"ARRAY<{returns}>"
        udf(name, result, params, description, variadic=variadic, author=author, version=version)(function)

        if name.upper() not in plan.TABLE_FUNCTIONS:
            plan.TABLE_FUNCTIONS = plan.TABLE_FUNCTIONS + (name.upper(),)
        return function
    return decorate


def _array_of(element):
    return T.array(element)


_loaded: set[str] = set()
# name -> author and version of each user function (DESCRIBE FUNCTION shows them)
DETAILS: dict[str, dict] = {}
# name -> the instances of user function classes that take settings (configure)
_CONFIGURABLE: dict[str, list] = {}


def load_extensions(directory: str | None, properties: dict | None = None) -> list[str]:
    """Import every .py file of an extension folder and every 'ksql.functions' entry point,
    then give each configurable function its settings from `properties`."""
    loaded = []
    try:
        _import_extensions(directory, loaded)
    finally:
        for name, instances in _CONFIGURABLE.items():
            for instance in instances:
                instance.configure(settings_for(name, properties or {}))
    return loaded


def _import_extensions(directory: str | None, loaded: list[str]) -> None:
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
