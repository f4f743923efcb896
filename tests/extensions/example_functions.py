"""Example extension: Python functions loaded with --extension-dir (or ksql.extension.dir).
BACKWARD_CONCAT is the function ksqlDB's test-runner example calls."""
import pyarrow.compute as pc

from ksql.udf import udaf, udf, udtf


@udf("BACKWARD_CONCAT", returns="STRING", params=["STRING", "STRING"], description="b followed by a.")
def backward_concat(a, b):
    return b + a


@udf("TIMES_TWO", returns="BIGINT", params=["BIGINT"], vectorized=True, description="Doubles a number.")
def times_two(values):
    return pc.multiply(values, 2)


@udf("FAILS_ON_ZERO", returns="DOUBLE", params=["INT"], description="1/x; raises for zero.")
def fails_on_zero(x):
    return 1 / x


@udaf("PRODUCT", returns="BIGINT", params=["BIGINT"], description="The product of the values.")
class Product:
    def init(self):
        return 1

    def add(self, state, value):
        return state if value is None else state * value

    def undo(self, state, value):
        return state if value in (None, 0) else state // value

    def result(self, state):
        return state


@udtf("CHARS", returns="STRING", params=["STRING"], description="One row per character.")
def chars(s):
    return list(s)
