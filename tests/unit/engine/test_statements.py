"""Statements checked before anything runs: timestamps written in part, and queries that could
not run at all."""
from __future__ import annotations

import pytest


def test_partial_timestamps_fill_the_rest_with_the_earliest_value():
    from ksql.runtime.expressions.kernels import partial_timestamp_millis

    assert partial_timestamp_millis("2018") == 1514764800000
    assert partial_timestamp_millis("2020-02-22T23:45") == 1582415100000
    assert partial_timestamp_millis("2020-02-24T24") == partial_timestamp_millis("2020-02-25")
    assert partial_timestamp_millis("2019-01-01T00:00:00+0445") == 1546300800000 - (4 * 60 + 45) * 60_000
    assert partial_timestamp_millis("2018-01-01T00:00:00.001Z") == 1514764800001
    assert partial_timestamp_millis("yesterday") is None


def test_a_query_that_cannot_run_fails_its_statement(engine, monkeypatch):
    from ksql.engine import StatementFailed
    from ksql.runtime.operators.project import ProjectOp

    def refuse(self, batch):
        raise TypeError("no kernel for these types")

    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', "
                   "partitions=1);")
    monkeypatch.setattr(ProjectOp, "process", refuse)
    with pytest.raises(StatementFailed, match="The query cannot run: no kernel for these types"):
        engine.execute("CREATE STREAM copy AS SELECT id, v FROM s;")
    assert not engine.queries and engine.metastore.get("COPY") is None


def test_a_replayed_query_keeps_the_id_its_command_recorded(make_engine):
    """Servers sharing a command topic name a query alike, even when the offset a server saw
    before appending is not where its command landed (another server appended meanwhile)."""
    import orjson

    from ksql.runtime.log.embedded import make_records

    engine = make_engine("data")
    engine.execute("CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                   "CREATE STREAM c AS SELECT * FROM s;")
    assert list(engine.queries) == ["CSAS_C_1"]
    command = {"statement": "CREATE STREAM d AS SELECT * FROM s;", "properties": {}, "queryId": "CSAS_D_7"}
    engine.log.append(engine.command_topic, 0, make_records([None], [orjson.dumps(command)], [1]))
    engine.close()
    again = make_engine("data")
    assert sorted(again.queries) == ["CSAS_C_1", "CSAS_D_7"]


BAD_TOPICS = {
    "..": "'..' is not allowed",
    ".": "'.' is not allowed",
    "": "the empty string is not allowed",
    "../x": "'../x' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'",
    "/tmp/elsewhere": "'/tmp/elsewhere' contains one or more characters other than ASCII alphanumerics, "
                      "'.', '_' and '-'",
    "x" * 250: f"the length of '{'x' * 250}' is longer than the max allowed length 249",
}


@pytest.mark.parametrize("topic", BAD_TOPICS, ids=["dotdot", "dot", "empty", "parent", "absolute", "long"])
def test_topic_names_follow_kafkas_rules(engine, tmp_path, topic):
    from ksql.engine import StatementFailed

    message = f"Topic name is invalid: {BAD_TOPICS[topic]}"
    with pytest.raises(StatementFailed, match=f"^{_re(message)}$"):
        engine.execute(f"CREATE STREAM s (id INT KEY) WITH (kafka_topic='{topic}', value_format='JSON', partitions=1);")
    engine.execute("CREATE STREAM ok (id INT KEY) WITH (kafka_topic='ok', value_format='JSON', partitions=1);")
    with pytest.raises(StatementFailed, match=f"^{_re(message)}$"):
        engine.execute(f"CREATE STREAM c WITH (kafka_topic='{topic}') AS SELECT * FROM ok;")
    assert engine.metastore.get("S") is None and engine.metastore.get("C") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing written beside the data


def test_a_stream_named_like_a_path_gets_no_topic_outside(engine, tmp_path):
    from ksql.engine import StatementFailed

    engine.execute("CREATE STREAM ok (id INT KEY) WITH (kafka_topic='ok', value_format='JSON', partitions=1);")
    with pytest.raises(StatementFailed, match="^Topic name is invalid: '../ESCAPED' contains one or more"):
        engine.execute('CREATE STREAM "../ESCAPED" AS SELECT * FROM ok;')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("value, shown", [("'abc'", "abc"), ("''", ""), ("1.5", "1.5"), ("99999999999", "99999999999")])
def test_a_partition_count_that_is_not_a_whole_number_is_refused(engine, value, shown):
    from ksql.engine import StatementFailed

    with pytest.raises(StatementFailed, match=f"^Invalid value {_re(shown)} for configuration PARTITIONS: "
                                              f"Not a number of type INT$"):
        engine.execute(f"CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON', partitions={value});")


def test_a_huge_partition_count_is_refused_and_the_data_directory_still_opens(make_engine):
    from ksql.engine import StatementFailed

    engine = make_engine("data", background=False)
    if engine.log.shared:
        pytest.skip("the broker decides how many partitions a topic may have")
    with pytest.raises(StatementFailed, match="cannot have 1000000000 partitions: the embedded log allows at most 10000"):
        engine.execute("CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON', partitions=1000000000);")
    engine.execute("CREATE STREAM t (id INT KEY) WITH (kafka_topic='t', value_format='JSON', partitions=2);")
    engine.close()
    again = make_engine("data", background=False)
    assert "t" in [t.name for t in again.log.topics()] and "s" not in [t.name for t in again.log.topics()]


@pytest.mark.parametrize("query_id, message", [
    ("../../x", "Query IDs may contain only alphanumeric characters and '_'. Got: '../../X'"),
    ("with space", "Query IDs may contain only alphanumeric characters and '_'. Got: 'WITH SPACE'"),
    ("CSAS_MINE", "Query IDs must not start with a reserved query ID prefix (INSERTQUERY_, CTAS_, CSAS_, CST_). "
                  "Got 'CSAS_MINE'."),
])
def test_query_ids_follow_ksqldbs_rules(engine, query_id, message):
    from ksql.engine import StatementFailed

    engine.execute("CREATE STREAM a (id INT KEY) WITH (kafka_topic='a', value_format='JSON', partitions=1);"
                   "CREATE STREAM b (id INT KEY) WITH (kafka_topic='b', value_format='JSON', partitions=1);")
    with pytest.raises(StatementFailed, match=f"^{_re(message)}$"):
        engine.execute(f"INSERT INTO b WITH (QUERY_ID='{query_id}') SELECT * FROM a;")
    engine.execute("INSERT INTO b WITH (QUERY_ID='my_copy') SELECT * FROM a;")
    assert "MY_COPY" in engine.queries


def _re(text: str) -> str:
    import re

    return re.escape(text)


def test_an_unknown_with_property_is_named(engine):
    """ksqlDB: 'Invalid config variable(s) in the WITH clause: <names>', before anything else."""
    from ksql.engine import StatementFailed

    with pytest.raises(StatementFailed, match=r"Invalid config variable\(s\) in the WITH clause: KAFKA_TOPC$"):
        engine.execute("CREATE STREAM s (id INT KEY) WITH (kafka_topc='s', value_format='JSON', partitions=1);")
    engine.execute("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);")
    with pytest.raises(StatementFailed, match=r"in the WITH clause: COLOUR,SIZE$"):
        engine.execute("CREATE STREAM t WITH (colour='red', size=2) AS SELECT * FROM s;")
    with pytest.raises(StatementFailed, match=r"in the WITH clause: WINDOW_TYPE$"):  # only for CREATE over a topic
        engine.execute("CREATE TABLE u WITH (window_type='TUMBLING') AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;")


def test_variables_keep_their_spelling_and_match_any_case(engine):
    """SHOW VARIABLES lists names as defined; ${name} matches whatever the case; $${name} is the
    text ${name} itself."""
    engine.execute("DEFINE topicName = 'events'; DEFINE TOPICNAME = 'clicks'; DEFINE fmt = 'JSON';")
    assert engine.execute("SHOW VARIABLES;")[0].rows == [["TOPICNAME", "clicks"], ["fmt", "JSON"]]
    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='${topicname}', "
                   "value_format='${FMT}', partitions=1); INSERT INTO s (id, v) VALUES (1, '$${fmt}');")
    assert engine.metastore.get("S").topic == "clicks"
    rows = list(engine.execute("SELECT v FROM s EMIT CHANGES LIMIT 1;")[0].rows())
    assert rows == [["${fmt}"]]
    assert engine.execute("UNDEFINE Fmt;")[0].message == "Undefined variable Fmt."
    assert engine.execute("SHOW VARIABLES;")[0].rows == [["TOPICNAME", "clicks"]]


def test_a_decimal_sum_keeps_its_type_and_an_overflow_stops_the_query(make_engine):
    # ksqlDB's SUM of a DECIMAL(p, s) is a DECIMAL(p, s); a total past it fails the query
    # ("Numeric field overflow"), which then restarts from its last commit
    engine = make_engine(background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute("CREATE STREAM s (k INT KEY, v DECIMAL(3, 1)) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                   "CREATE TABLE t AS SELECT k, SUM(v) AS total FROM s GROUP BY k;")
    assert engine.metastore.get("T").schema.find("TOTAL").type.params == (3, 1)
    engine.execute("INSERT INTO s (k, v) VALUES (1, 60.5); INSERT INTO s (k, v) VALUES (2, 1.0);")
    engine.drain()
    query, = engine.queries.values()
    assert query.state == "RUNNING"
    engine.execute("INSERT INTO s (k, v) VALUES (1, 50.0);")  # 110.5 does not fit DECIMAL(3, 1)
    engine.drain()
    assert query.state == "ERROR" and "Numeric field overflow" in query.error


def test_a_windowed_key_goes_to_its_keys_partition_whatever_the_window(engine):
    # Kafka Streams partitions windowed keys by the key alone, so all of a key's windows (and
    # the key's rows in a topic keyed the same way) are in one partition
    from conftest import topic_records, wait_for
    from ksql.runtime.log.murmur2 import partitions_for

    engine.execute("CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=4);"
                   "CREATE TABLE t WITH (partitions=4) AS SELECT k, COUNT(*) AS n FROM s "
                   "WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY k;")
    keys = ["a", "b", "c", "d", "e"]
    for i, key in enumerate(keys * 3):
        engine.execute(f"INSERT INTO s (ROWTIME, k, v) VALUES ({(i + 1) * 1000}, '{key}', 1);")
    wait_for(lambda: len(topic_records(engine.log, "T")) == 15)
    for partition, key, _, _ in topic_records(engine.log, "T"):
        inner = key[:-8]  # the key without its window's start
        assert partition == int(partitions_for([inner], 4)[0])


def test_show_properties_lists_every_setting_in_effect_and_where_it_comes_from(make_engine):
    # show-properties.md: "List the configuration settings that are currently in effect"
    engine = make_engine(properties={"ksql.service.id": "svc_"}, background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    result = engine.execute("SHOW PROPERTIES;")[0]
    assert result.headers == ["Property", "Scope", "Level", "Value"]
    rows = {row[0]: row[1:] for row in result.rows}
    assert rows["ksql.service.id"] == ["KSQL", "SERVER", "svc_"]
    assert rows["ksql.streams.auto.offset.reset"] == ["STREAMS", "SESSION", "earliest"]
    assert rows["ksql.query.pull.limit.clause.enabled"] == ["KSQL", "", "true"]
    assert result.extra["overwrittenProperties"] == ["ksql.streams.auto.offset.reset"]
    assert "ksql.query.pull.limit.clause.enabled" in result.extra["defaultProperties"]
    assert "ksql.service.id" not in result.extra["defaultProperties"]


@pytest.mark.parametrize("sql, line, column, message", [
    # ksqlDB's messages for these (its test corpus, joins.json): "Line: 3, Col: 70: ..."
    ("SELECT * FROM a t JOIN b u WITHIN 1 MINUTE ON t.iid = u.id EMIT CHANGES;", 3, 47,
     "JOIN ON column 'T.IID' cannot be resolved."),
    ("SELECT * FROM a t JOIN b u WITHIN 1 MINUTE\n  ON t.id = u.iid EMIT CHANGES;", 4, 13,
     "JOIN ON column 'U.IID' cannot be resolved."),
    # (no literal: a statement of a shape seen before, literals aside, is not placed; test_statement_cache)
    ("SELECT id, v FROM a WHERE\n nope > v EMIT CHANGES;", 4, 2, "WHERE column 'NOPE' cannot be resolved."),
])
def test_a_column_that_cannot_be_resolved_is_pointed_at_in_the_script(engine, sql, line, column, message):
    from ksql.engine import StatementFailed

    script = ("CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);\n"
              "CREATE STREAM b (id INT KEY, w INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);\n"
              + sql)
    with pytest.raises(StatementFailed) as failure:
        engine.execute(script)
    assert (failure.value.line, failure.value.column) == (line, column)
    assert str(failure.value) == f"Line: {line}, Col: {column}: {message}"


@pytest.mark.parametrize("sql, message", [
    # ksqlDB finds these while it prepares a statement, before planning, and says so (its test
    # corpus: insert-into.json "unknown", joins.json "Should fail on ambiguous join attribute",
    # sql-tests test.sql "bad engine statement should fail")
    ("INSERT INTO\n  unknown SELECT * FROM a;", "Line: 4, Col: 3: Source `UNKNOWN` does not exist."),
    ("SELECT * FROM a x JOIN b y WITHIN 1 MINUTE ON x.id = y.id\n WHERE id > 1 EMIT CHANGES;",
     "Line: 4, Col: 8: Column 'ID' is ambiguous. Could be X.ID or Y.ID."),
    ("SELECT * FROM missing EMIT CHANGES;", "MISSING does not exist."),
    ("SELECT * FROM a JOIN missing m WITHIN 1 MINUTE ON a.id = m.id EMIT CHANGES;", "MISSING does not exist."),
])
def test_a_name_that_is_not_there_fails_while_preparing(engine, sql, message):
    from ksql.engine import StatementFailed

    script = ("CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);\n"
              "CREATE STREAM b (id INT KEY, w INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);\n"
              + sql)
    with pytest.raises(StatementFailed) as failure:
        engine.execute(script)
    assert str(failure.value) == f"Exception while preparing statement: {message}"


def test_an_error_points_into_the_callers_script(engine):
    """A caller that runs a script a statement at a time says where each starts (`at`)."""
    from ksql.engine import StatementFailed

    engine.execute("CREATE STREAM a (id INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);")
    with pytest.raises(StatementFailed) as failure:
        engine.execute("SELECT nope FROM a EMIT CHANGES;", at=(7, 5))
    assert (failure.value.line, failure.value.column) == (7, 12)
    assert str(failure.value) == "Line: 7, Col: 12: SELECT column 'NOPE' cannot be resolved."


def test_select_star_on_a_source_table_with_headers_names_its_schema_as_ksqldb(make_engine):
    """ksqlDB's header for it is the table's own schema: key, headers (marked), then values
    (its corpus: pull-queries-with-headers.json "select * against CST table with headers")."""
    engine = make_engine(background=False)
    engine.execute("CREATE SOURCE TABLE input (k INT PRIMARY KEY, text STRING, header BYTES HEADER('abc'), "
                   "n INT, other BYTES HEADER('xyz')) WITH (kafka_topic='t', value_format='DELIMITED', partitions=1);")
    assert engine.execute("SELECT * FROM input;")[0].schema() == (
        "`K` INTEGER KEY, `HEADER` BYTES HEADER('abc'), `OTHER` BYTES HEADER('xyz'), `TEXT` STRING, `N` INTEGER")
    for _ in range(2):  # a key lookup, answered directly, then from the shape it learnt
        assert engine.execute("SELECT * FROM input WHERE k = 1;")[0].schema() == (
            "`K` INTEGER KEY, `HEADER` BYTES HEADER('abc'), `OTHER` BYTES HEADER('xyz'), `TEXT` STRING, `N` INTEGER")
    assert engine.execute("SELECT k, text FROM input;")[0].schema() == "`K` INTEGER KEY, `TEXT` STRING"


def test_arithmetic_on_a_null_is_logged_and_makes_the_whole_expression_null(engine):
    # ksqlDB's generated code throws NullPointerException on it: the processing log says so
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute("CREATE STREAM s (id INT KEY, x INT, y INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                   "INSERT INTO s (id, x, y) VALUES (1, NULL, 3);"
                   "INSERT INTO s (id, x, y) VALUES (2, 4, 3);")
    got = list(engine.execute("SELECT id, IFNULL(x + y, -1), y * 2, CASE WHEN x IS NULL THEN 0 ELSE x - y END FROM s;")[0])
    assert got == [[1, None, 6, 0], [2, 7, 6, 1]]
    logged = list(engine.execute("SELECT MESSAGE->RECORDPROCESSINGERROR->ERRORMESSAGE FROM KSQL_PROCESSING_LOG;")[0])
    assert logged == [["Error computing expression: java.lang.NullPointerException: a NULL where the "
                       "expression needs a value"]]
