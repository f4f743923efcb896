"""Pull queries with ORDER BY, joins and GROUP BY across tables (answered over one snapshot
of the tables): the errors a user meets, and consistency with the streaming functions."""
from __future__ import annotations

import pytest

from ksql.errors import KsqlError


@pytest.fixture
def engine(make_engine):
    eng = make_engine(background=False)
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE TABLE users (id INT PRIMARY KEY, name STRING, tags ARRAY<STRING>, props MAP<STRING, INT>) "
                "WITH (kafka_topic='users', value_format='JSON', partitions=2);"
                "INSERT INTO users (id, name, tags, props) VALUES (1, 'alice', ARRAY['a', 'b'], MAP('x' := 1));"
                "INSERT INTO users (id, name, tags, props) VALUES (2, 'bob', ARRAY['c'], MAP('x' := 2));"
                "CREATE TABLE q AS SELECT * FROM users;")
    eng.drain()
    return eng


def rows(engine, sql):
    return list(engine.execute(sql)[0])


def test_order_by_with_functions_subscripts_and_maps(engine):
    assert rows(engine, "SELECT name, tags[1] AS first, props['x'] AS x, SPLIT(name, 'l') AS parts "
                        "FROM q ORDER BY x DESC;") == [["bob", "c", 2, ["bob"]], ["alice", "a", 1, ["a", "ice"]]]


def test_a_self_join_with_aliases(engine):
    assert rows(engine, "SELECT a.id, b.name FROM q a JOIN q b ON a.id = b.id ORDER BY a.id;") == \
        [[1, "alice"], [2, "bob"]]


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM q ORDER BY nope;", "Column 'NOPE' cannot be resolved."),
    ("SELECT * FROM users EMIT CHANGES ORDER BY id;", "Syntax Error"),
    ("SELECT * FROM q ORDER BY id EMIT CHANGES;", "ORDER BY is only supported in pull queries on tables"),
    ("SELECT name, TOPK(id, 2) FROM q GROUP BY name;", "TOPK is not available in pull queries"),
    ("SELECT TRANSFORM(tags, t => UCASE(t)) FROM q ORDER BY id;", "Lambda functions are not supported"),
    ("SELECT id, COUNT(*) FROM q ORDER BY id;", "Pull query failed"),
    ("SELECT name FROM q a JOIN q b ON a.id = b.id;", "Column 'NAME' is ambiguous"),
])
def test_errors(engine, sql, message):
    with pytest.raises(KsqlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        engine.execute(sql)
