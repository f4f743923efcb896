"""A GROUP BY over a table, run in two stages around a repartition topic (as on several
servers): each key's rows go to its group's partition, a tombstone to the partition it
leaves, and each partition is aggregated as a task of its own. The counts must be those of the
table's current rows, whatever partitions the keys move between."""
from __future__ import annotations

from collections import Counter

from ksql.engine import KsqlEngine
from ksql.runtime.query import PersistentQuery

SETUP = """
CREATE TABLE people (id INT PRIMARY KEY, city STRING) WITH (kafka_topic='people', value_format='JSON', partitions=4);
CREATE TABLE per_city AS SELECT city, COUNT(*) AS n FROM people WHERE city <> 'nowhere' GROUP BY city;
"""


def people(numbers, shift: int) -> str:
    return "".join(f"INSERT INTO people (id, city) VALUES ({n}, 'c{(n + shift) % 5}');" for n in numbers)


def regrouped(engine: KsqlEngine) -> PersistentQuery:
    """The engine's query replaced by the same query in two stages (which the engine runs so
    only when it shares the query with other servers)."""
    query_id, query = next(iter(engine.queries.items()))
    engine.log.create_topic("regroup", 4)
    engine.log.create_topic("state", 4, "compact")
    twice = PersistentQuery(query_id, query.kind, query.sql, query.plan, query.sink, engine.log, "earliest",
                            changelog="state", view=query.view, repartition_topic="regroup")
    twice.prepare()
    engine.queries[query_id] = twice
    return twice


def counts(engine) -> dict:
    return {city: n for city, n in engine.execute("SELECT * FROM per_city;")[0].rows()}


def test_moving_rows_are_taken_back_from_the_group_they_leave(tmp_path):
    engine = KsqlEngine(str(tmp_path), background=False)
    engine.session.properties["auto.offset.reset"] = "earliest"
    engine.execute(SETUP)
    regrouped(engine)
    cities = {}
    for numbers, shift in ((range(40), 0), (range(20), 1), (range(10), 3), (range(5, 30, 2), 2)):
        engine.execute(people(numbers, shift))
        cities.update({n: f"c{(n + shift) % 5}" for n in numbers})
        engine.drain()
        assert counts(engine) == dict(Counter(cities.values()))
    engine.execute("INSERT INTO people (id, city) VALUES (39, 'nowhere');")  # filtered out: leaves its group
    del cities[39]
    engine.drain()
    assert counts(engine) == dict(Counter(cities.values()))
    partitions = {p for p in range(4) if engine.log.end_offset("regroup", p)}
    assert len(partitions) > 1  # the groups were spread over the topic's partitions
    engine.close()
