"""Statements checked before anything runs: timestamps written in part, and queries that could
not run at all."""
from __future__ import annotations

import pytest


def test_partial_timestamps_fill_the_rest_with_the_earliest_value():
    from ksql.planner.expressions import partial_timestamp_millis

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

    from ksql.runtime.log import make_records

    engine = make_engine("data")
    engine.execute("CREATE STREAM s (id INT KEY) WITH (kafka_topic='s', value_format='JSON', partitions=1);"
                   "CREATE STREAM c AS SELECT * FROM s;")
    assert list(engine.queries) == ["CSAS_C_1"]
    command = {"statement": "CREATE STREAM d AS SELECT * FROM s;", "properties": {}, "queryId": "CSAS_D_7"}
    engine.log.append(engine.command_topic, 0, make_records([None], [orjson.dumps(command)], [1]))
    engine.close()
    again = make_engine("data")
    assert sorted(again.queries) == ["CSAS_C_1", "CSAS_D_7"]
