"""A table's view that follows its topic (several servers) counts a record as read only once
its row is in the view: a pull query waits for that position, then reads the rows, from
another thread, so the other order answers it without the row."""
from __future__ import annotations

from ksql.engine import KsqlEngine
from ksql.runtime.materialized import MaterializedTable


class Watched(MaterializedTable):
    """Records, at each apply, the position a waiting pull query would see."""

    def __init__(self, table):
        super().__init__(table)
        self.seen_while_applying = []

    def apply(self, *args, **kwargs):
        self.seen_while_applying.append(dict(self.positions))
        return super().apply(*args, **kwargs)


def test_a_position_moves_after_its_rows_are_applied(tmp_path):
    engine = KsqlEngine(str(tmp_path / "d"), background=False)
    try:
        engine.execute("CREATE TABLE t (id INT PRIMARY KEY, v STRING) "
                       "WITH (kafka_topic='t', value_format='JSON', partitions=1);")
        engine.execute("INSERT INTO t (id, v) VALUES (1, 'a'); INSERT INTO t (id, v) VALUES (2, 'b');")
        view = Watched(engine.metastore.get("T"))
        assert view.follow(engine.log)
        assert view.seen_while_applying == [{}]  # nothing counted as read while the rows went in
        assert view.positions == {0: 2} and len(view.rows) == 2
        engine.execute("INSERT INTO t (id, v) VALUES (3, 'c');")
        assert view.follow(engine.log)
        assert view.seen_while_applying[1:] == [{0: 2}]
        assert view.positions == {0: 3} and len(view.rows) == 3
    finally:
        engine.close()
