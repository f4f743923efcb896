"""Key lookups that only pick columns are answered from the table's rows without a plan; the
answer (rows, column names, types, key columns) must be the planned path's, whatever the types."""
from __future__ import annotations

import re
import time

import pytest

import ksql.engine.pull as pull


@pytest.fixture
def engine(make_engine):
    eng = make_engine(background=False)
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute(
        "CREATE STREAM s (id BIGINT KEY, name STRING, price DECIMAL(6, 2), tags ARRAY<STRING>, "
        "props MAP<STRING, INT>, addr STRUCT<city STRING, zip INT>, ts TIMESTAMP, score DOUBLE) "
        "WITH (kafka_topic='s', value_format='JSON', partitions=2);"
        "INSERT INTO s VALUES (1, 'alice', 1.50, ARRAY['a'], MAP('x' := 1), STRUCT(city := 'Oslo', zip := 1), "
        "'2024-01-02T03:04:05.006', 0.5);"
        "INSERT INTO s VALUES (2, 'bob', NULL, NULL, NULL, NULL, NULL, NULL);"
        "INSERT INTO s VALUES (1, 'alice2', 2.25, ARRAY['b', 'c'], MAP('y' := 2), STRUCT(city := 'Rome', zip := 2), "
        "'2025-01-02T03:04:05.006', 1.5);"
        "CREATE TABLE t AS SELECT id, LATEST_BY_OFFSET(name) AS name, LATEST_BY_OFFSET(price) AS price, "
        "LATEST_BY_OFFSET(tags) AS tags, LATEST_BY_OFFSET(score) AS score, COUNT(*) AS n FROM s GROUP BY id;"
        "CREATE TABLE names (name STRING PRIMARY KEY, v INT) WITH (kafka_topic='names', value_format='JSON', "
        "partitions=1);"
        "INSERT INTO names VALUES ('x', 1);"
        "INSERT INTO names VALUES ('it''s', 2);"
        "CREATE TABLE names_copy AS SELECT * FROM names;")
    eng.drain()
    return eng


QUERIES = [
    "SELECT * FROM t WHERE id = 1;",
    "SELECT * FROM t WHERE id = 2;",
    "SELECT * FROM t WHERE id = 3;",
    "SELECT * FROM t WHERE 1 = id;",
    "SELECT * FROM t WHERE id IN (2, 1, 2, 9);",
    "SELECT * FROM t WHERE id = 1 OR id = 2;",
    "SELECT * FROM t WHERE id IN (2, 1) LIMIT 1;",
    "SELECT name, id FROM t WHERE id = 1;",
    "SELECT name AS who, x.price, x.n FROM t x WHERE x.id = 1;",
    "SELECT t.name FROM t WHERE t.id = 2;",
    "SELECT score, tags FROM t WHERE id = 1.0;",
    "SELECT * FROM names_copy WHERE name = 'it''s';",
    "SELECT v FROM names_copy WHERE name = 'nobody';",
]


def answer(engine, sql):
    result = engine.execute(sql)[0]
    return result.column_names, result.column_types, result.key_columns, list(result)


@pytest.mark.parametrize("sql", QUERIES)
def test_a_direct_lookup_answers_as_the_planned_query(engine, sql, monkeypatch):
    found = []
    direct_lookup = pull.direct_lookup
    monkeypatch.setattr(pull, "direct_lookup", lambda query, source: found.append(direct_lookup(query, source))
                        or found[-1])
    direct = answer(engine, sql)
    assert found and found[-1] is not None  # answered directly
    monkeypatch.setattr(pull, "direct_lookup", lambda query, source: None)
    assert direct == answer(engine, sql)


def test_lookups_see_the_current_row(engine):
    assert list(engine.execute("SELECT name, n FROM t WHERE id = 1;")[0]) == [["alice2", 2]]
    engine.execute("INSERT INTO s (id, name) VALUES (1, 'carol');")
    engine.drain()
    assert list(engine.execute("SELECT name, n FROM t WHERE id = 1;")[0]) == [["carol", 3]]


@pytest.mark.parametrize("sql, message", [
    ("SELECT nope FROM t WHERE id = 1;", "SELECT column 'NOPE' cannot be resolved."),
    ("SELECT * FROM t WHERE id = 'a';", "Cannot compare ID (BIGINT) to 'a' (STRING) with EQUAL."),
    ("SELECT * FROM t WHERE id = NULL;", "Comparison with NULL not supported: BIGINT = NULL"),
    ("SELECT t.price FROM t x WHERE id = 1;", "SELECT column 'T.PRICE' cannot be resolved."),
])
def test_what_a_direct_lookup_cannot_answer_gets_the_planners_error(engine, sql, message):
    with pytest.raises(Exception, match=re.escape(message)):
        engine.execute(sql)


# -- answered at once, for a server's event loop (quick_pull)

def test_quick_pull_answers_each_direct_lookup_as_execute_does(engine):
    if engine.log.shared:  # Kafka's offsets are asked over the network: never answered at once
        assert engine.quick_pull(QUERIES[0], engine.session) is None
        return
    for sql in QUERIES:
        quick = engine.quick_pull(sql, engine.session)
        assert quick is not None, sql
        assert (quick.column_names, quick.column_types, quick.key_columns, list(quick)) == answer(engine, sql)


@pytest.mark.parametrize("sql", [
    "SELECT * FROM t WHERE id = 1 EMIT CHANGES;",  # a push query
    "SELECT * FROM t;",  # a scan
    "SELECT * FROM t WHERE name = 'bob';",  # not by key
    "SELECT id, COUNT(*) FROM t WHERE id = 1 GROUP BY id;",  # through DuckDB
    "SELECT * FROM t WHERE id = 1; SELECT * FROM t WHERE id = 2;",
    "SELECT * FROM s WHERE id = 1;",  # a stream
    "SHOW STREAMS;",
    "SELECT nope FROM t WHERE id = 1;",  # an error: execute() says where
    "SELECT * FROM t WHERE id = = 1;",
    "SELECT * FROM t WHERE id = 1" + " " * pull.QUICK_PULL_MAX_CHARS + ";",  # long: may take a while to parse
])
def test_quick_pull_leaves_everything_else_to_execute(engine, sql):
    assert engine.quick_pull(sql, engine.session) is None


def test_quick_pull_takes_session_variables(engine):
    if engine.log.shared:
        pytest.skip("never answered at once on Kafka")
    engine.session.variables["who"] = "1"
    quick = engine.quick_pull("SELECT name FROM t WHERE id = ${who};", engine.session)
    assert list(quick) == [["alice2"]]


def test_a_lookup_of_a_shape_answered_before_is_answered_from_its_literals(engine, monkeypatch):
    """Statements that differ only in the keys they name are parsed and checked once: the next
    ones are answered from their literals, with what execute() gives."""
    if engine.log.shared:
        pytest.skip("never answered at once on Kafka")
    later = ["SELECT name, n FROM t WHERE id = 1;", "SELECT name, n FROM t WHERE id = 3;",
             "SELECT * FROM t WHERE id IN (1, 1, 2, 3);", "SELECT * FROM names_copy WHERE name = 'it''s';",
             "SELECT * FROM names_copy WHERE name = '';"]
    expected = [answer(engine, sql) for sql in later]
    for sql in ("SELECT name, n FROM t WHERE id = 2;", "SELECT * FROM t WHERE id IN (2, 1, 2, 9);",
                "SELECT * FROM names_copy WHERE name = 'x';"):
        assert engine.quick_pull(sql, engine.session) is not None
    monkeypatch.setattr(pull, "parse_statement", lambda text: pytest.fail(f"parsed again: {text}"))
    for sql, wanted in zip(later, expected):
        quick = engine.quick_pull(sql, engine.session)
        assert (quick.column_names, quick.column_types, quick.key_columns, list(quick)) == wanted


def test_a_learnt_lookup_shape_follows_its_table_being_created_again(engine):
    if engine.log.shared:
        pytest.skip("never answered at once on Kafka")
    assert list(engine.quick_pull("SELECT * FROM names_copy WHERE name = 'x';", engine.session)) == [["x", 1]]
    engine.execute("DROP TABLE names_copy;")
    engine.execute("CREATE TABLE names_copy AS SELECT name, v * 10 AS w FROM names;")
    engine.drain()
    quick = engine.quick_pull("SELECT * FROM names_copy WHERE name = 'x';", engine.session)
    assert (quick.column_names, list(quick)) == (["NAME", "W"], [["x", 10]])


@pytest.mark.parametrize("first, then, rows", [
    ("SELECT * FROM t WHERE id IN (2, 1) LIMIT 1;", "SELECT * FROM t WHERE id IN (2, 1) LIMIT 2;", 2),
    ("SELECT name FROM t WHERE id = -1;", "SELECT name FROM t WHERE id = -2;", 0),
])
def test_shapes_with_literals_other_than_the_keys_are_not_learnt(engine, first, then, rows):
    if engine.log.shared:
        pytest.skip("never answered at once on Kafka")
    engine.quick_pull(first, engine.session)
    assert not engine.key_lookups
    assert len(list(engine.quick_pull(then, engine.session))) == rows


def test_quick_pull_never_waits(make_engine, monkeypatch):
    import threading

    eng = make_engine()  # queries on their own threads
    if eng.log.shared:
        pytest.skip("never answered at once on Kafka")
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', "
                "value_format='JSON', partitions=1);"
                "INSERT INTO users VALUES (1, 'ann');"
                "CREATE TABLE names AS SELECT * FROM users;")
    assert list(eng.execute("SELECT name FROM names WHERE id = 1;")[0]) == [["ann"]]  # caught up
    sql = "SELECT name FROM names WHERE id = 1;"
    assert list(eng.quick_pull(sql, eng.session)) == [["ann"]]

    end_offset = eng.log.end_offset
    monkeypatch.setattr(eng.log, "end_offset", lambda topic, partition, wait=True: 10**6)
    assert eng.quick_pull(sql, eng.session) is None  # the table's query has input left to read
    monkeypatch.setattr(eng.log, "end_offset", lambda topic, partition, wait=True: None)
    assert eng.quick_pull(sql, eng.session) is None  # a writer holds the partition
    monkeypatch.setattr(eng.log, "end_offset", end_offset)

    for lock in (eng._lock, eng.materialized["NAMES"].lock):  # another statement; a batch being applied
        held, release = threading.Event(), threading.Event()

        def busy():
            with lock:
                held.set()
                release.wait(10)

        other = threading.Thread(target=busy)
        other.start()
        held.wait(10)
        try:
            assert eng.quick_pull(sql, eng.session) is None
        finally:
            release.set()
            other.join()
    assert list(eng.quick_pull(sql, eng.session)) == [["ann"]]


def _names_showing_ann(make_engine, monkeypatch):
    """(engine, query, key lookup): a table NAMES built by a query on its own thread, once it
    shows its row, with pull queries waiting only briefly for it from then on."""
    eng = make_engine()  # queries on their own threads
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE TABLE users (id INT PRIMARY KEY, name STRING) WITH (kafka_topic='users', "
                "value_format='JSON', partitions=1);"
                "INSERT INTO users VALUES (1, 'ann');"
                "CREATE TABLE names AS SELECT * FROM users;")
    sql = "SELECT name FROM names WHERE id = 1;"
    deadline = time.monotonic() + 60  # (on Kafka, a busy machine can take longer than a pull query waits)
    while list(eng.execute(sql)[0]) != [["ann"]]:
        assert time.monotonic() < deadline, "the table never showed its row"
    query = next(q for q in eng.queries.values() if q.sink.name == "NAMES")
    monkeypatch.setattr(pull, "PULL_CATCH_UP_SECONDS", 0.1)
    monkeypatch.setattr(pull, "SHARED_LOG_CATCH_UP_SECONDS", 0.1)
    return eng, query, sql


def test_a_table_still_being_restored_gives_an_error_not_an_empty_answer(make_engine, monkeypatch):
    eng, query, sql = _names_showing_ann(make_engine, monkeypatch)
    query.prepared.clear()  # as while a query started on existing data rebuilds its state
    try:
        assert eng.quick_pull(sql, eng.session) is None
        with pytest.raises(Exception, match=re.escape(
                f"Unable to execute pull query: table NAMES is still being restored (query {query.id} is "
                f"rebuilding its state after a start). Try again in a moment.")):
            eng.execute(sql)
    finally:
        query.prepared.set()
    assert list(eng.execute(sql)[0]) == [["ann"]]


def test_a_table_whose_query_has_no_partitions_yet_gives_an_error_not_an_empty_answer(make_engine, monkeypatch):
    eng, query, sql = _names_showing_ann(make_engine, monkeypatch)
    # as on Kafka before the query's consumer group has assigned its partitions
    monkeypatch.setattr(type(query), "placed", property(lambda self: False))
    with pytest.raises(Exception, match=re.escape(
            f"Unable to execute pull query: table NAMES is not served yet (query {query.id} is waiting for "
            f"its consumer group to assign it partitions). Try again in a moment.")):
        eng.execute(sql)
    monkeypatch.undo()
    assert list(eng.execute(sql)[0]) == [["ann"]]
