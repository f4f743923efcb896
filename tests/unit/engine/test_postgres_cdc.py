"""ksqlDB's materialized-view tutorial (tutorials/materialized.md) as written, with PostgreSQL
in place of MySQL and the engine's built-in change-data-capture connector in place of
Debezium's, on the embedded log: a real PostgreSQL server, its rows captured through logical
decoding, the views answering pull queries with the tutorial's figures."""
from __future__ import annotations

import json

import psycopg
import pytest

from ksql.engine import KsqlEngine

import materialized_tutorial as tutorial
from conftest import topic_records, wait_for

TOPIC = tutorial.TOPIC


def connector(server, database: str, name: str = "calls_reader", extra: str = "") -> str:
    return (f"CREATE SOURCE CONNECTOR {name} WITH ("
            "'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector', "
            f"'database.hostname' = '127.0.0.1', 'database.port' = '{server.port}', "
            "'database.user' = 'postgres', 'database.password' = '', "
            f"'database.dbname' = '{database}', 'database.server.name' = 'call-center-db', "
            f"'table.whitelist' = 'public.calls', 'include.schema.changes' = 'false'{extra});")


def pull(engine, sql: str) -> list:
    [rows] = engine.execute(sql)
    return list(rows.rows())


def test_the_materialized_view_tutorial_on_postgresql(tmp_path, postgres):
    server, database = postgres
    db = psycopg.connect(server.dsn(database), autocommit=True)
    tutorial.seed(db)

    # the tutorial's server runs Connect with these converters (KSQL_CONNECT_KEY_CONVERTER, ...)
    engine = KsqlEngine(str(tmp_path / "data"), {
        "connect.key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "connect.value.converter": "io.confluent.connect.avro.AvroConverter"})
    try:
        engine.execute("SET 'auto.offset.reset' = 'earliest';")
        engine.execute(connector(server, database))
        wait_for(lambda: engine.log.topic(TOPIC) and len(topic_records(engine.log, TOPIC)) == 10)
        [topics] = engine.execute("SHOW TOPICS;")
        assert TOPIC in [row[0] for row in topics.rows]
        engine.execute(f"CREATE STREAM calls WITH (kafka_topic = '{TOPIC}', value_format = 'avro');")
        for view in tutorial.VIEWS:
            engine.execute(view)
        wait_for(lambda: pull(engine, tutorial.SUPPORT) == tutorial.SUPPORT_ROWS)
        wait_for(lambda: pull(engine, tutorial.LIFETIME) == tutorial.LIFETIME_ROWS)

        # "Try inserting more rows ... watch the results propagate in real-time"
        db.execute(tutorial.INSERT, tutorial.NEW_CALL)
        wait_for(lambda: pull(engine, tutorial.LIFETIME) == tutorial.LIFETIME_AFTER)
        assert pull(engine, "SELECT name, distinct_reasons, last_reason FROM support_view WHERE name = 'michael';") \
            == [["michael", 3, "refund"]]
        [described] = engine.execute("DESCRIBE CONNECTOR calls_reader;")
        assert described.entity["status"]["tasks"][0]["state"] == "RUNNING"
        assert described.entity["topics"] == [TOPIC]
        assert [s["name"] for s in described.entity["sources"]] == ["CALLS"]
    finally:
        engine.close()
        db.close()


def test_changes_as_debezium_envelopes_and_a_restart_in_between(tmp_path, postgres):
    server, database = postgres
    db = psycopg.connect(server.dsn(database), autocommit=True)
    db.execute("CREATE TABLE calls (id INT PRIMARY KEY, name TEXT, amount NUMERIC(8, 2), at DATE, ok BOOLEAN)")
    db.execute("INSERT INTO calls VALUES (1, 'it''s', 12.50, '1970-01-11', true)")
    engine = KsqlEngine(str(tmp_path / "data"), background=False)
    engine.execute(connector(server, database, "cdc", ", 'table.include.list' = 'public.calls'"))
    task = engine.connect.tasks["CDC"]
    task.drain()
    db.execute("UPDATE calls SET name = 'two' WHERE id = 1")
    task.drain()
    task.stop()
    engine.close()
    db.execute("INSERT INTO calls VALUES (2, NULL, NULL, NULL, NULL)")
    db.execute("DELETE FROM calls WHERE id = 1")

    engine = KsqlEngine(str(tmp_path / "data"), background=False)
    try:
        task = engine.connect.tasks["CDC"]
        task.drain()
        records = topic_records(engine.log, TOPIC)
        values = [json.loads(v) if v is not None else None for _, _, v, _ in records]
        assert [(v["op"], v["before"], v["after"]) if v else None for v in values] == [
            ("r", None, {"id": 1, "name": "it's", "amount": 12.5, "at": 10, "ok": True}),
            ("u", None, {"id": 1, "name": "two", "amount": 12.5, "at": 10, "ok": True}),
            ("c", None, {"id": 2, "name": None, "amount": None, "at": None, "ok": None}),
            ("d", {"id": 1, "name": None, "amount": None, "at": None, "ok": None}, None),
            None]  # a delete's tombstone
        # keys: the primary key as a struct (here through the default StringConverter: its JSON)
        assert [json.loads(k) for _, k, _, _ in records] == [{"id": 1}, {"id": 1}, {"id": 2}, {"id": 1}, {"id": 1}]
        assert {v["source"]["table"] for v in values if v} == {"calls"}
        assert [v["source"]["snapshot"] for v in values if v] == ["true", "false", "false", "false"]
    finally:
        engine.close()
        db.close()


def test_a_database_it_cannot_reach_fails_the_task_with_the_reason(tmp_path):
    engine = KsqlEngine(str(tmp_path / "data"), background=False)
    try:
        engine.execute("CREATE SOURCE CONNECTOR cdc WITH ('connector.class'='PostgresConnector', "
                       "'database.hostname'='127.0.0.1', 'database.port'='1', 'database.user'='u', "
                       "'database.dbname'='d', 'topic.prefix'='p');")
        task = engine.connect.tasks["CDC"]
        with pytest.raises(Exception):
            task.drain()
        [shown] = engine.execute("SHOW CONNECTORS;")
        assert shown.entity["connectors"][0]["name"] == "CDC"
    finally:
        engine.close()
