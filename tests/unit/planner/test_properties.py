"""Plan nodes carry what they emit, derived once when the query is planned; how a query splits
over servers is read from them."""
from ksql.engine import KsqlEngine
from ksql.parser import parse_statement
from ksql.planner.aggregation import AggregateNode
from ksql.planner.partitioning import join_repartitions, partition_local
from ksql.planner.plan import plan_query
from ksql.planner.properties import StreamProperties


def planned(engine, sql):
    return plan_query(parse_statement(sql).query, engine.metastore)


def test_every_node_carries_its_properties(tmp_path):
    engine = KsqlEngine(str(tmp_path), background=False)
    try:
        engine.execute("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);")
        plan = planned(engine, "SELECT v, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 10 SECONDS) "
                               "WHERE v > 0 GROUP BY v EMIT CHANGES;")
        assert plan.source.properties == StreamProperties(False, ("ID",), ("ID",), None)
        filter_, aggregate, project = plan.steps
        assert filter_.properties == plan.source.properties  # a filter keeps what it is given
        assert isinstance(aggregate, AggregateNode)
        assert aggregate.properties.changelog and aggregate.properties.key == ("V",)
        assert aggregate.properties.window.startswith("TUMBLING")
        assert project.properties.changelog and project.properties.key == ("V",)
        assert not partition_local(plan)  # grouped by a value column: its groups span partitions
    finally:
        engine.close()


def test_grouping_by_the_partitioning_columns_splits_by_partition(tmp_path):
    engine = KsqlEngine(str(tmp_path), background=False)
    try:
        engine.execute('CREATE STREAM s ("id" INT KEY, v INT) WITH (kafka_topic=\'s\', value_format=\'JSON\', '
                       'partitions=2);')
        assert partition_local(planned(engine, 'SELECT "id", COUNT(*) FROM s GROUP BY "id" EMIT CHANGES;'))
        assert not partition_local(planned(engine, 'SELECT v, COUNT(*) FROM s GROUP BY v EMIT CHANGES;'))
        assert not partition_local(planned(engine, 'SELECT "id", v, COUNT(*) FROM s GROUP BY v, "id" '
                                                   'EMIT CHANGES;'))
    finally:
        engine.close()


def test_a_join_splits_by_partition_only_when_its_sources_are_co_partitioned(tmp_path):
    """Co-partitioned sources joined on their keys: a task per partition. A join on a value
    column, a foreign key, or sources whose equal keys may land in different partitions (another
    partition count, another key format, a registry format's bytes): one task for all."""
    engine = KsqlEngine(str(tmp_path), background=False)
    try:
        engine.execute(
            "CREATE STREAM a (k INT KEY, x INT, tk INT) WITH (kafka_topic='a', value_format='JSON', partitions=2);"
            "CREATE STREAM b (k INT KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=2);"
            "CREATE TABLE t (k INT PRIMARY KEY, z INT) WITH (kafka_topic='t', value_format='JSON', partitions=2);"
            "CREATE TABLE u (k INT PRIMARY KEY, tk INT) WITH (kafka_topic='u', value_format='JSON', partitions=2);"
            "CREATE TABLE t3 (k INT PRIMARY KEY, z INT) WITH (kafka_topic='t3', value_format='JSON', partitions=3);"
            "CREATE TABLE tj (k INT PRIMARY KEY, z INT) WITH (kafka_topic='tj', key_format='JSON', "
            "value_format='JSON', partitions=2);"
            "CREATE TABLE ta (k INT PRIMARY KEY, z INT) WITH (kafka_topic='ta', format='AVRO', partitions=2);"
            "CREATE STREAM sa (k INT KEY, x INT) WITH (kafka_topic='sa', format='AVRO', partitions=2);")

        def local(sql: str) -> bool:
            return partition_local(planned(engine, sql))

        assert local("SELECT * FROM a JOIN t ON a.k = t.k EMIT CHANGES;")
        assert local("SELECT * FROM a JOIN b WITHIN 1 SECOND ON a.k = b.k EMIT CHANGES;")
        assert local("SELECT * FROM t JOIN u ON t.k = u.k EMIT CHANGES;")
        assert local("SELECT * FROM a JOIN b WITHIN 1 SECOND ON a.k = b.k JOIN t ON b.k = t.k EMIT CHANGES;")
        # grouped by the join's key after it: still a task per partition; by another column: not
        assert local("SELECT a.k, COUNT(*) FROM a JOIN t ON a.k = t.k GROUP BY a.k EMIT CHANGES;")
        assert not local("SELECT t.z, COUNT(*) FROM a JOIN t ON a.k = t.k GROUP BY t.z EMIT CHANGES;")
        assert not local("SELECT * FROM a JOIN t ON a.tk = t.k EMIT CHANGES;")  # a's rows move by tk
        assert not local("SELECT * FROM u JOIN t ON u.tk = t.k EMIT CHANGES;")  # foreign key
        assert not local("SELECT * FROM a JOIN tj ON a.k = tj.k EMIT CHANGES;")  # KAFKA and JSON keys
        assert not local("SELECT * FROM sa JOIN ta ON sa.k = ta.k EMIT CHANGES;")  # AVRO keys
        assert not local("SELECT * FROM a JOIN t3 ON a.tk = t3.k EMIT CHANGES;")  # 2 and 3 partitions

        # On several servers, a stream joined on another expression than its key goes through a
        # repartition topic, partitioned as the other input is; then the servers share the join.
        def moved(sql: str) -> tuple:
            return join_repartitions(planned(engine, sql))

        assert moved("SELECT * FROM a JOIN t ON a.tk = t.k EMIT CHANGES;") == (0,)
        assert moved("SELECT * FROM a JOIN t3 ON a.tk = t3.k EMIT CHANGES;") == (0,)
        assert moved("SELECT * FROM a JOIN b WITHIN 1 SECOND ON a.x = b.k EMIT CHANGES;") == (0,)
        assert moved("SELECT * FROM a JOIN b WITHIN 1 SECOND ON a.k = b.y EMIT CHANGES;") == (1,)
        assert moved("SELECT * FROM a JOIN b WITHIN 1 SECOND ON a.x = b.y EMIT CHANGES;") == (0, 1)
        assert moved("SELECT * FROM a JOIN t ON a.k = t.k EMIT CHANGES;") == ()  # co-partitioned already
        assert moved("SELECT * FROM u JOIN t ON u.tk = t.k EMIT CHANGES;") == ()  # foreign key
        assert moved("SELECT * FROM a JOIN ta ON a.tk = ta.k EMIT CHANGES;") == ()  # AVRO keys
        assert moved("SELECT t.z, COUNT(*) FROM a JOIN t ON a.tk = t.k GROUP BY t.z EMIT CHANGES;") == ()
    finally:
        engine.close()
