"""A record that cannot be deserialized goes to the processing log; the query goes on."""
import json

from ksql.runtime.log import make_records

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

    rows = list(engine.execute(
        "SELECT MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE AS msg, MESSAGE->`TYPE` AS t "
        "FROM KSQL_PROCESSING_LOG;")[0])
    assert len(rows) == 2
    assert all(t == 0 for _, t in rows)
    assert "Failed to deserialize value from topic: orders" in rows[0][0]
    assert rows[1][0].endswith("Can't convert type. sourceType: STRING, requiredType: INTEGER")
    assert engine.queries["CSAS_BIG_1"].state == "RUNNING"
