# from concepts/functions.md
"""Python UDFs, UDAFs and UDTFs loaded from an extension folder, as a user would write them."""
from __future__ import annotations


import pytest

from conftest import TESTS


EXTENSIONS = TESTS / "extensions"


@pytest.fixture
def engine(make_engine):
    eng = make_engine(properties={"ksql.extension.dir": str(EXTENSIONS)})
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE STREAM s (id INT KEY, a STRING, b STRING, n BIGINT, z INT) "
                "WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                "INSERT INTO s (id, a, b, n, z) VALUES (1, 'hat', 'cat', 3, 1);"
                "INSERT INTO s (id, a, b, n, z) VALUES (2, 'pan', 'cake', 4, 0);")
    return eng


def rows(engine, sql):
    return list(engine.execute(sql)[0])


def test_row_and_vectorized_udfs(engine):
    assert rows(engine, "SELECT id, BACKWARD_CONCAT(a, b), TIMES_TWO(n) FROM s;") == [[1, "cathat", 6],
                                                                                       [2, "cakepan", 8]]


def test_a_failing_udf_gives_null_and_an_entry_in_the_processing_log(engine):
    """As ksqlDB evaluates a SELECT expression: an error makes it NULL for that row, which goes
    on (its corpus: partition-by.json "should handle PARTITION BY that throws")."""
    assert rows(engine, "SELECT id, FAILS_ON_ZERO(z) FROM s;") == [[1, 1.0], [2, None]]
    errors = rows(engine, "SELECT MESSAGE->RECORDPROCESSINGERROR->ERRORMESSAGE FROM KSQL_PROCESSING_LOG;")
    assert errors == [["Error computing expression: FAILS_ON_ZERO failed: division by zero"]]


def test_a_failing_udf_makes_its_whole_expression_null(engine):
    """(not only the call: ksqlDB catches the error around the whole SELECT expression)"""
    assert rows(engine, "SELECT id, COALESCE(FAILS_ON_ZERO(z), 5.0) AS v, a FROM s;") == [[1, 1.0, "hat"],
                                                                                         [2, None, "pan"]]


def test_a_failing_udf_in_where_drops_the_row(engine):
    assert rows(engine, "SELECT id FROM s WHERE FAILS_ON_ZERO(z) > 0;") == [[1]]


def test_udaf_and_udtf(engine):
    assert rows(engine, "SELECT a, PRODUCT(n) FROM s GROUP BY a EMIT CHANGES LIMIT 2;") == [["hat", 3], ["pan", 4]]
    assert rows(engine, "SELECT id, CHARS(a) FROM s WHERE id = 1;") == [[1, "h"], [1, "a"], [1, "t"]]


def test_user_functions_are_listed_and_described(engine):
    listed = {item["name"]: item for item in engine.execute("SHOW FUNCTIONS;")[0].items}
    assert listed["BACKWARD_CONCAT"]["category"] == "USER"
    assert listed["PRODUCT"]["type"] == "AGGREGATE"
    text = engine.execute("DESCRIBE FUNCTION backward_concat;")[0].text
    assert "Description : b followed by a." in text
    assert "Signature   : BACKWARD_CONCAT(STRING, STRING) -> STRING" in text


def test_overloads_prefer_the_exact_signature_then_widen(engine):
    assert rows(engine, "SELECT TEST_UDF(z, 'x'), TEST_UDF(n, 'x'), TEST_UDF() FROM s WHERE id = 1;") == \
        [["doStuffIntString", "doStuffLongString", {"A": "foo"}]]
    text = engine.execute("DESCRIBE FUNCTION test_udf;")[0].text
    assert "TEST_UDF(INT, STRING) -> STRING" in text and "TEST_UDF() -> STRUCT<A VARCHAR>" in text
    with pytest.raises(Exception, match=r"Function 'test_udf' does not accept parameters \(BOOLEAN\)"):
        engine.execute("SELECT TEST_UDF(true) FROM s;")


def test_overloaded_and_variadic_aggregates(engine):
    assert rows(engine, "SELECT id, TEST_UDAF(n), TEST_UDAF(z), VAR_ARG(n, a, b) FROM s GROUP BY id "
                        "EMIT CHANGES LIMIT 2;") == [[1, 3, 1, 9], [2, 4, 0, 11]]
    with pytest.raises(Exception, match=r"Function 'VAR_ARG' does not accept parameters \(STRING, STRING\)"):
        engine.execute("SELECT id, VAR_ARG(a, b) FROM s GROUP BY id EMIT CHANGES;")
