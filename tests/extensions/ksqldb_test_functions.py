"""The functions ksqlDB's own test corpus calls (TEST_UDF, TEST_UDAF, TEST_UDTF, BAD_UDF,
THROWING_UDTF, TOSTRUCT, VAR_ARG, MULTI_ARG, FOUR_ARG, FIVE_ARG, MID_VAR_ARG, OBJ_COL_ARG), written as a Python extension. They show overloads (the same name
declared for several signatures), variadic parameters, struct arguments and results, and
functions that raise: the conformance harness loads this folder."""
from decimal import Decimal

from ksql.planner import types as T
from ksql.udf import udaf, udf, udtf

# ---------------------------------------------------------------- TEST_UDF: overloads


@udf("TEST_UDF", returns="STRING", params=["INT", "STRING"], description="Names the overload it resolved to.")
def test_udf_int_string(i, s):
    return "doStuffIntString"


@udf("TEST_UDF", returns="STRING", params=["BIGINT", "STRING"])
def test_udf_long_string(i, s):
    return "doStuffLongString"


@udf("TEST_UDF", returns="STRING", params=["STRUCT<A VARCHAR>"])
def test_udf_struct(value):
    return value["A"]


@udf("TEST_UDF", returns="STRUCT<A VARCHAR>", params=[])
def test_udf_make_struct():
    return {"A": "foo"}


@udf("TOSTRUCT", returns="STRUCT<A VARCHAR>", params=["STRING"], description="Wraps a string in a struct.")
def to_struct(value):
    return {"A": value}


# ---------------------------------------------------------------- BAD_UDF: functions that raise


@udf("BAD_UDF", returns="INT", params=["INT"], description="Raises, or returns NULL, as tests need.")
def bad_udf_int(value):
    raise RuntimeError("boom")


@udf("BAD_UDF", returns="STRING", params=["STRING"])
def bad_udf_string(value):
    return None if value == "d1" else value


@udf("BAD_UDF", returns="INT", params=["BOOLEAN"])
def bad_udf_boolean(should_throw):
    if should_throw:
        raise RuntimeError("You asked me to throw")
    return 0


# ---------------------------------------------------------------- table functions


def _java_text(value):
    """How Java's toString shows a value (the corpus checks these strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "Struct{" + ",".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


_SCALARS = ["INT", "BIGINT", "DOUBLE", "BOOLEAN", "STRING", "DECIMAL(20, 10)", "STRUCT<A VARCHAR>"]

for _type in _SCALARS:
    _returns = "DECIMAL(30, 10)" if _type.startswith("DECIMAL") else _type
    udtf("TEST_UDTF", returns=_returns, params=[_type], description="Each argument back as a row.")(
        lambda value: [value])


@udtf("TEST_UDTF", returns="STRING", params=_SCALARS)
def test_udtf_scalars(*values):
    return [_java_text(v) for v in values]


@udtf("TEST_UDTF", returns="STRING", params=[f"ARRAY<{t}>" for t in _SCALARS])
def test_udtf_arrays(*arrays):
    return [_java_text(v) for array in arrays for v in array]


@udtf("TEST_UDTF", returns="STRING", params=[f"MAP<STRING, {t}>" for t in _SCALARS])
def test_udtf_maps(*maps):
    return [_java_text(v) for entries in maps for _, v in entries]


@udtf("THROWING_UDTF", returns="BOOLEAN", params=["BOOLEAN"], description="Raises when asked to.")
def throwing_udtf(should_throw):
    if should_throw:
        raise RuntimeError("You asked me to throw")
    return [should_throw]


# ---------------------------------------------------------------- aggregates


@udaf("TEST_UDAF", returns="BIGINT", params=["BIGINT"], description="A sum, for tests.")
class TestSumLong:
    def init(self):
        return 0

    def add(self, state, value):
        return state if value is None else state + value

    def undo(self, state, value):
        return state if value is None else state - value

    def merge(self, a, b):
        return a + b

    def result(self, state):
        return state


@udaf("TEST_UDAF", returns="INT", params=["INT"])
class TestSumInt(TestSumLong):
    pass


@udaf("TEST_UDAF", returns="STRUCT<A INT, B INT>", params=["STRUCT<A INT, B INT>"])
class TestSumStruct:
    def init(self):
        return {"A": 0, "B": 0}

    def add(self, state, value):
        if value is None:
            return state
        return {k: state[k] + (value.get(k) or 0) for k in state}

    def undo(self, state, value):
        if value is None:
            return state
        return {k: state[k] - (value.get(k) or 0) for k in state}

    def merge(self, a, b):
        return {k: a[k] + b[k] for k in a}

    def result(self, state):
        return state


# ---------------------------------------------------------------- UDAFs with init arguments


def _lengths(texts):
    return sum(len(t) for t in texts if t is not None)


def _weight(value):
    """A row value's share of the MULTI_ARG family's sum: a number itself, a string its length."""
    if value is None:
        return 0
    return len(value) if isinstance(value, str) else value


class _SumOfArguments:
    """MULTI_ARG, FOUR_ARG, FIVE_ARG: start at the init int plus the lengths of the init strings,
    add each row's numbers and string lengths."""
    columns = 2

    def init(self):
        return None  # set from the init arguments by the first row

    def add(self, state, *args):
        values, (start, *texts) = args[:self.columns], args[self.columns:]
        state = start + _lengths(texts) if state is None else state
        return state + sum(_weight(v) for v in values)

    def merge(self, a, b):
        return a + b

    def result(self, state):
        return state


@udaf("MULTI_ARG", returns="BIGINT", params=["BIGINT", "STRING"], init_params=["INT", "STRING"], variadic=True,
      description="Starts at the int plus the lengths of the strings given once; adds each row's number and "
                  "string length.")
class MultiArg(_SumOfArguments):
    columns = 2


@udaf("FOUR_ARG", returns="BIGINT", params=["BIGINT", "STRING", "STRING", "STRING"], init_params=["INT", "STRING"],
      variadic=True, description="MULTI_ARG over four columns.")
class FourArg(_SumOfArguments):
    columns = 4


@udaf("FIVE_ARG", returns="BIGINT", params=["BIGINT", "STRING", "STRING", "STRING", "INT"],
      init_params=["INT", "STRING"], variadic=True, description="MULTI_ARG over five columns.")
class FiveArg(_SumOfArguments):
    columns = 5


@udaf("MID_VAR_ARG", returns="BIGINT", params=["BIGINT", "STRING"], init_params=["INT", "INT"], variadic=1,
      description="Starts at the sum of the two ints given once; adds each row's number and the lengths of its "
                  "strings.")
class MidVarArg:
    def init(self):
        return None

    def add(self, state, number, *rest):
        *texts, first, second = rest
        state = first + second if state is None else state
        return state + (number or 0) + _lengths(texts)

    def merge(self, a, b):
        return a + b

    def result(self, state):
        return state


@udaf("OBJ_COL_ARG", returns=lambda types: T.array(types[0]), params=["INT", "ANY"], variadic=True,
      description="The first argument of every row whose arguments are all non-NULL.")
class ObjectColumnArgs:
    def init(self):
        return []

    def add(self, state, first, *others):
        if first is None or any(o is None for o in others):
            return state
        return state + [first]

    def merge(self, a, b):
        return a + b

    def result(self, state):
        return state


@udaf("VAR_ARG", returns="BIGINT", params=["BIGINT", "STRING"], variadic=True,
      description="The sum of a number plus the lengths of any number of strings.")
class VariadicSum:
    def init(self):
        return 0

    def add(self, state, number, *strings):
        return state + (number or 0) + sum(len(s) for s in strings if s is not None)

    def undo(self, state, number, *strings):
        return state - (number or 0) - sum(len(s) for s in strings if s is not None)

    def merge(self, a, b):
        return a + b

    def result(self, state):
        return state
