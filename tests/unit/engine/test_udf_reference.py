# from reference/user-defined-functions.md
"""User functions as the UDF reference describes them, written in Python (the reference's
Java hooks are the analogue): names are case-insensitive; description, author, version and
category show in DESCRIBE FUNCTION and SHOW FUNCTIONS; a function that implements configure()
gets only the settings named for it or for every function; NULL handling is the function's
choice; an aggregate's state differs from its result and merges when sessions do; and
ksql.udfs.enabled=false loads no extension."""
from __future__ import annotations

import uuid

import pytest

from conftest import TESTS, wait_for

EXTENSIONS = TESTS / "extensions"


@pytest.fixture
def engine(make_engine):
    eng = make_engine(properties={"ksql.extension.dir": str(EXTENSIONS),
                                  "ksql.functions.greeting.prefix": "Hello, ",
                                  "ksql.functions._global_.suffix": "!",
                                  "ksql.functions.other.secret": "not for GREETING"})
    eng.session.properties["auto.offset.reset"] = "earliest"
    eng.execute("CREATE STREAM people (id INT KEY, name STRING, n BIGINT) "
                "WITH (kafka_topic='people', value_format='JSON', partitions=1);"
                "INSERT INTO people (id, name, n) VALUES (1, 'Ann', 2);"
                "INSERT INTO people (id, name, n) VALUES (2, CAST(NULL AS STRING), 4);")
    return eng


def rows(engine, sql):
    return list(engine.execute(sql)[0])


def test_names_are_case_insensitive_and_settings_reach_only_their_function(engine):
    assert rows(engine, "SELECT id, greeting(name), GREETING(name), Greeting('Bo') FROM people;") == [
        [1, "Hello, Ann!", "Hello, Ann!", "Hello, Bo!"], [2, None, None, "Hello, Bo!"]]
    assert rows(engine, "SELECT SETTINGS_SEEN() FROM people WHERE id = 1;") == [
        [["ksql.functions._global_.suffix", "ksql.functions.greeting.prefix"]]]


def test_null_handling_is_the_functions_choice(engine):
    # by default NULL in, NULL out (a boxed parameter in the reference); null_safe=False sees it
    assert rows(engine, "SELECT id, NULL_AS_WORD(name) FROM people;") == [[1, "Ann"], [2, "none"]]


def test_describe_and_show_functions_show_the_metadata(engine):
    text = engine.execute("DESCRIBE FUNCTION greeting;")[0].text
    assert "Description : A greeting for a name." in text
    assert "Author      : Ann Example" in text and "Version     : 1.2.0" in text
    assert "Signature   : GREETING(STRING) -> STRING" in text
    listed = {item["name"]: item for item in engine.execute("SHOW FUNCTIONS;")[0].items}
    assert listed["GREETING"]["category"] == "STRINGS"  # grouped by its category
    aggregate = engine.execute("DESCRIBE FUNCTION MEAN_OF;")[0]
    assert aggregate.item["type"] == "AGGREGATE" and aggregate.item["author"] == "Ann Example"


def test_an_aggregates_state_is_not_its_result_and_sessions_merge(engine):
    engine.execute("CREATE STREAM visits (user STRING KEY, n BIGINT) "
                   "WITH (kafka_topic='visits', value_format='JSON', partitions=1);"
                   "CREATE TABLE means AS SELECT user, MEAN_OF(n) AS mean FROM visits "
                   "WINDOW SESSION (10 SECONDS) GROUP BY user;"
                   "INSERT INTO visits (user, n, ROWTIME) VALUES ('a', 1, 1000);"
                   "INSERT INTO visits (user, n, ROWTIME) VALUES ('a', 3, 16000);"
                   "INSERT INTO visits (user, n, ROWTIME) VALUES ('a', 8, 9000);")
    # two sessions ([1000], [16000]), then a record between them merges them into one: (1+3+8)/3
    # (times from 1000: a Kafka client library takes a timestamp of 0 for "now")
    wait_for(lambda: rows(engine, "SELECT user, WINDOWSTART, WINDOWEND, mean FROM means WHERE user = 'a';") == [
        ["a", 1000, 16000, 4.0]], timeout=30)


def test_udfs_enabled_false_loads_no_extension(make_engine, tmp_path):
    folder = tmp_path / "functions"
    folder.mkdir()
    name = f"ONLY_WHEN_ENABLED_{uuid.uuid4().hex.upper()}"  # (functions are registered once per process)
    (folder / "only_here.py").write_text(
        "from ksql.udf import udf\n\n"
        f"@udf('{name}', returns='INT', params=['INT'])\n"
        "def only_when_enabled(x):\n    return x + 1\n")
    disabled = make_engine("off", properties={"ksql.extension.dir": str(folder), "ksql.udfs.enabled": "false"})
    with pytest.raises(Exception, match=f"Can't find any functions with the name '{name}'"):
        disabled.execute(f"DESCRIBE FUNCTION {name};")
    enabled = make_engine("on", properties={"ksql.extension.dir": str(folder)})
    assert name in enabled.execute(f"DESCRIBE FUNCTION {name};")[0].text
