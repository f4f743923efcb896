"""On Kafka, the connector statements drive a real Kafka Connect worker through its REST API
(ksql.connect.url, ksqlDB's external mode): Kafka's own FileStreamSource and FileStreamSink,
the engine reading and writing the topics between them."""
from __future__ import annotations


import httpx
import pytest

from ksql.engine import KsqlEngine
from ksql.engine.session import StatementFailed

import materialized_tutorial as tutorial
from conftest import started, wait_for


@pytest.fixture
def connect_worker(kafka_broker):
    from ksql.connect_worker import ConnectUnavailable, ConnectWorker

    worker = started(lambda: ConnectWorker(kafka_broker.bootstrap_servers).start(), ConnectUnavailable,
                     "Kafka Connect")
    yield worker
    worker.stop()
    kafka_broker.clean()


def one(engine, sql: str):
    [result] = engine.execute(sql)
    return result


def test_file_connectors_on_a_real_connect_worker(tmp_path, kafka_broker, connect_worker):
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("alpha\nbeta\ngamma\n")
    engine = KsqlEngine(str(tmp_path / "data"), {"bootstrap.servers": kafka_broker.bootstrap_servers,
                                                 "ksql.connect.url": connect_worker.url})
    try:
        engine.execute("SET 'auto.offset.reset'='earliest';")
        one(engine, "CREATE STREAM lines (line STRING) WITH (kafka_topic='lines', value_format='KAFKA', partitions=1);")
        created = one(engine, f"CREATE SOURCE CONNECTOR reader WITH ('connector.class'='FileStreamSource', "
                              f"'file'='{source}', 'topic'='lines', "
                              "'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
        # Connect's ConnectorInfo, passed on as ksqlDB does
        assert created.kind == "connector_info"
        assert created.entity["info"]["name"] == "READER" and created.entity["info"]["type"] == "source"
        assert created.entity["info"]["config"]["file"] == str(source)

        one(engine, "CREATE STREAM shouted WITH (value_format='KAFKA', partitions=1) AS "
                    "SELECT UCASE(line) AS line FROM lines;")
        one(engine, f"CREATE SINK CONNECTOR writer WITH ('connector.class'='FileStreamSink', 'file'='{sink}', "
                    "'topics'='SHOUTED', 'value.converter'='org.apache.kafka.connect.storage.StringConverter');")
        wait_for(lambda: sink.exists() and sink.read_text() == "ALPHA\nBETA\nGAMMA\n", timeout=60)

        def states():
            return {c["name"]: c["state"] for c in one(engine, "SHOW CONNECTORS;").entity["connectors"]}
        wait_for(lambda: states() == {"READER": "RUNNING (1/1 tasks RUNNING)", "WRITER": "RUNNING (1/1 tasks RUNNING)"})
        listed = one(engine, "SHOW SINK CONNECTORS;").entity["connectors"]
        assert listed == [{"name": "WRITER", "type": "sink", "className": "FileStreamSink",
                           "state": "RUNNING (1/1 tasks RUNNING)"}]

        described = one(engine, "DESCRIBE CONNECTOR reader;").entity
        assert described["connectorClass"] == "FileStreamSource"
        assert described["status"]["connector"]["state"] == "RUNNING"
        assert described["topics"] == ["lines"]
        assert [s["name"] for s in described["sources"]] == ["LINES"]

        with pytest.raises(StatementFailed) as exists:
            engine.execute("CREATE SOURCE CONNECTOR reader WITH ('connector.class'='FileStreamSource', "
                           f"'file'='{source}', 'topic'='lines');")
        assert str(exists.value.error) == "Connector READER already exists"
        with pytest.raises(StatementFailed) as unknown:
            engine.execute("CREATE SOURCE CONNECTOR x WITH ('connector.class'='NoSuchConnector');")
        assert str(unknown.value.error).startswith("Validation error: ")
        assert "NoSuchConnector" in str(unknown.value.error)

        assert one(engine, "DROP CONNECTOR reader;").entity == {"connectorName": "READER"}
        wait_for(lambda: "READER" not in states())
        gone = one(engine, "DESCRIBE CONNECTOR reader;")
        assert gone.kind == "error_entity" and "READER" in gone.entity["errorMessage"]
        assert one(engine, "DROP CONNECTOR IF EXISTS reader;").kind == "warning_entity"
    finally:
        engine.close()


DEBEZIUM_POSTGRES = "io.debezium:debezium-connector-postgres:3.6.1.Final"


def test_the_materialized_view_tutorial_with_debezium_on_kafka_connect(tmp_path, kafka_broker, postgres):
    """tutorials/materialized.md as written, against PostgreSQL with Debezium's PostgresConnector
    (3.x names two of its settings topic.prefix and table.include.list) on a real Connect worker,
    through `ksql server`'s REST API. The tutorial's worker writes values with an AvroConverter
    whose schemas ksqlDB reads from the registry: here ksql.connect.AvroConverter, registering
    them with the registry API the ksql server serves."""
    import psycopg

    from ksql.connect_worker import ConnectUnavailable, ConnectWorker
    from processes import Server

    pg, database = postgres
    db = psycopg.connect(pg.dsn(database), autocommit=True)
    tutorial.seed(db)
    worker = ConnectWorker(kafka_broker.bootstrap_servers, (DEBEZIUM_POSTGRES,), settings={
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "ksql.connect.AvroConverter"})
    (tmp_path / "ksql.properties").write_text(f"ksql.connect.url={worker.url}\n")
    ksql = Server(tmp_path / "data", "--bootstrap-servers", kafka_broker.bootstrap_servers,
                  "--config", str(tmp_path / "ksql.properties"))
    worker.settings["value.converter.schema.registry.url"] = ksql.url
    try:
        started(worker.start, ConnectUnavailable, "Kafka Connect with Debezium")

        def run(sql: str) -> list:
            response = ksql.ksql(sql, **{"auto.offset.reset": "earliest"})
            assert response.status_code == 200, response.text
            return response.json()

        def pull(sql: str) -> list:
            rows = httpx.post(ksql.url + "/query", json={"ksql": sql}, timeout=30).json()
            return [r["row"]["columns"] for r in rows if isinstance(r, dict) and "row" in r]

        run(f"""CREATE SOURCE CONNECTOR calls_reader WITH (
            'connector.class' = 'io.debezium.connector.postgresql.PostgresConnector',
            'database.hostname' = '127.0.0.1',
            'database.port' = '{pg.port}',
            'database.user' = 'postgres',
            'database.password' = 'postgres',
            'database.dbname' = '{database}',
            'topic.prefix' = 'call-center-db',
            'table.include.list' = 'public.calls',
            'plugin.name' = 'pgoutput',
            'slot.name' = 'slot_{database}',
            'topic.creation.default.replication.factor' = '1',
            'topic.creation.default.partitions' = '1'
        );""")
        topic = tutorial.TOPIC
        wait_for(lambda: any(t["name"] == topic for t in run("SHOW TOPICS;")[0]["topics"]), timeout=90)
        # the value schema is registered with the first record
        wait_for(lambda: httpx.get(f"{ksql.url}/subjects/{topic}-value/versions", timeout=10).status_code == 200,
                 timeout=90)
        run(f"""CREATE STREAM calls WITH (
            kafka_topic = '{topic}',
            value_format = 'avro'
        );""")
        for view in tutorial.VIEWS:
            run(view)
        wait_for(lambda: pull(tutorial.SUPPORT) == tutorial.SUPPORT_ROWS, timeout=90)
        wait_for(lambda: pull(tutorial.LIFETIME) == tutorial.LIFETIME_ROWS)
        db.execute(tutorial.INSERT, tutorial.NEW_CALL)
        wait_for(lambda: pull(tutorial.LIFETIME) == tutorial.LIFETIME_AFTER, timeout=90)
        [described] = run("DESCRIBE CONNECTOR calls_reader;")
        assert described["status"]["tasks"][0]["state"] == "RUNNING"
        assert [s["name"] for s in described["sources"]] == ["CALLS"]
        run("DROP CONNECTOR calls_reader;")
    finally:
        worker.stop()
        ksql.stop()
        db.close()
        kafka_broker.clean()


def test_the_server_runs_its_own_worker_from_ksql_connect_worker_config(tmp_path, kafka_broker):
    """ksqlDB's embedded Connect: with ksql.connect.worker.config the server runs a worker of its
    own, whose connectors (kept in Kafka) go on after a restart from their committed offsets."""
    import uuid

    worker_config = tmp_path / "connect.properties"
    worker_config.write_text("# the worker's own settings\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n")
    source = tmp_path / "in.txt"
    source.write_text("one\ntwo\n")
    properties = {"bootstrap.servers": kafka_broker.bootstrap_servers, "ksql.connect.worker.config": str(worker_config),
                  "ksql.service.id": f"s{uuid.uuid4().hex[:6]}_"}

    def lines(engine) -> list:
        [rows] = engine.execute("SELECT line FROM lines;")
        return [row[0] for row in rows.rows()]

    try:
        engine = KsqlEngine(str(tmp_path / "a"), properties)
        try:
            engine.execute("SET 'auto.offset.reset'='earliest';")
            one(engine, "CREATE STREAM lines (line STRING) WITH (kafka_topic='lines', value_format='KAFKA', "
                        "partitions=1);")
            one(engine, f"CREATE SOURCE CONNECTOR reader WITH ('connector.class'='FileStreamSource', "
                        f"'file'='{source}', 'topic'='lines');")
            wait_for(lambda: lines(engine) == ["one", "two"], timeout=60)
            worker = engine.connect.worker
        finally:
            engine.close()
        assert worker.process.poll() is not None  # stopped with the server

        with open(source, "a") as f:
            f.write("three\n")
        engine = KsqlEngine(str(tmp_path / "b"), properties)
        try:
            engine.execute("SET 'auto.offset.reset'='earliest';")
            wait_for(lambda: [c["name"] for c in one(engine, "SHOW CONNECTORS;").entity["connectors"]] == ["READER"],
                     timeout=60)
            wait_for(lambda: lines(engine) == ["one", "two", "three"], timeout=60)
        finally:
            engine.close()
    finally:
        kafka_broker.clean()
