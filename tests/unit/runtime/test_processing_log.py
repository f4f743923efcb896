"""A record that cannot be deserialized goes to the processing log; the query goes on."""
import base64
import json

from ksql.runtime.log.embedded import make_records

from conftest import topic_records, wait_for


def test_bad_json_goes_to_processing_log_and_good_records_reach_the_sink(engine):
    engine.execute("""
        CREATE STREAM orders (id INT KEY, amount INT) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
        CREATE STREAM big AS SELECT id, amount FROM orders WHERE amount > 10;
    """)
    key = (7).to_bytes(4, "big")
    engine.log.append("orders", 0, make_records(
        [key, key, key, key],
        [b'{"amount": 50}', b'{"amount": oops', b'{"amount": "not a number"}', b'{"amount": 60}'],
        [1, 2, 3, 4]))
    sink = wait_for(lambda: [json.loads(v) for _, _, v, _ in topic_records(engine.log, "BIG")]
                    if len(topic_records(engine.log, "BIG")) == 2 else None)
    assert sink == [{"AMOUNT": 50}, {"AMOUNT": 60}]

    # (on Kafka, at least once, the log's records may become readable a moment after the sink's)
    rows = wait_for(lambda: (lambda found: found if len(found) == 2 else None)(list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE AS msg, MESSAGE->`TYPE` AS t "
        "FROM KSQL_PROCESSING_LOG;")[0])), timeout=30)
    assert all(t == 0 for _, t in rows)
    assert "Failed to deserialize value from topic: orders" in rows[0][0]
    assert rows[1][0].endswith("Can't coerce string to type. targetType: INTEGER")
    assert engine.queries["CSAS_BIG_1"].state == "RUNNING"


# Records no query can read, each with what makes it unreadable.
HOSTILE = [
    (b'{"N": "not a number"}', "Can't coerce string to type"),      # a string that is no number
    (b'{"N": 1, "TAGS": [1, 2', "Failed to deserialize JSON"),                 # truncated bytes
    (b'{"N": ' + b"9" * 5000 + b"}", "number is infinity"),      # a number too large for any type
    (b"[" * 50_000 + b"]" * 50_000, "Failed to deserialize JSON"),              # nesting past any parser's depth
    (b'{"N": 1, "NAME": "\xff\xfe"}', "Failed to deserialize JSON"),           # invalid UTF-8
    (b'{"N": 1, "TAGS": {"a": 1}}', "Can't convert type"),       # an object where an array belongs
]


def test_each_unreadable_record_is_logged_with_where_it_is_and_why(engine):
    engine.execute("""
        CREATE STREAM src (id INT KEY, n INT, name STRING, tags ARRAY<STRING>)
          WITH (kafka_topic='src', value_format='JSON', partitions=1);
        CREATE STREAM copied AS SELECT * FROM src;
    """)
    good = b'{"N": 7, "NAME": "ok", "TAGS": ["x"]}'
    payloads = [good] + [p for p, _ in HOSTILE] + [good, b'{"N": 8, "NAME": "' + b"y" * 500_000 + b'"}']
    key = (1).to_bytes(4, "big")
    engine.log.append("src", 0, make_records([key] * len(payloads), payloads, list(range(len(payloads)))))

    wait_for(lambda: len(topic_records(engine.log, "COPIED")) == 3)
    assert [json.loads(v)["N"] for _, _, v, _ in topic_records(engine.log, "COPIED")] == [7, 7, 8]
    rows = wait_for(lambda: (lambda r: r if len(r) == len(HOSTILE) else None)(list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR FROM KSQL_PROCESSING_LOG;")[0])))
    for (payload, reason), (error,) in zip(HOSTILE, rows):
        offset = payloads.index(payload)
        assert error["topic"] == "src" and error["TARGET"] == "value"
        assert base64.b64decode(error["RECORDB64"]) == payload
        assert reason in error["ERRORMESSAGE"], error["ERRORMESSAGE"]
        assert error["CAUSE"][-1] == f"Error deserializing value for partition src-0 at offset {offset}"
    assert engine.queries["CSAS_COPIED_1"].state == "RUNNING"
