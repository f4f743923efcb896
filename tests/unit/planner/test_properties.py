"""Plan nodes carry what they emit, derived once when the query is planned; how a query splits
over servers is read from them."""
from ksql.engine import KsqlEngine
from ksql.parser import parse_statement
from ksql.planner.aggregation import AggregateNode
from ksql.planner.partitioning import partition_local
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
