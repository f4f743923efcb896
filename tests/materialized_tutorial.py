"""ksqlDB's materialized-view tutorial (tutorials/materialized.md): its seed rows, its two views
and the pull queries it runs on them with the figures it prints, shared by the tests that run
it with the built-in connector and with Debezium on Kafka Connect."""

TOPIC = "call-center-db.public.calls"  # <database.server.name / topic.prefix>.<schema>.<table>

CALLS = [("michael", "purchase", 540), ("michael", "help", 224), ("colin", "help", 802),
         ("derek", "purchase", 10204), ("derek", "help", 600), ("colin", "refund", 105),
         ("michael", "help", 2030), ("colin", "purchase", 800), ("derek", "help", 2514),
         ("derek", "refund", 325)]

CREATE_TABLE = "CREATE TABLE calls (name TEXT, reason TEXT, duration_seconds INT)"
INSERT = "INSERT INTO calls (name, reason, duration_seconds) VALUES (%s, %s, %s)"

VIEWS = ["""CREATE TABLE support_view AS
    SELECT after->name AS name,
           count_distinct(after->reason) AS distinct_reasons,
           latest_by_offset(after->reason) AS last_reason
    FROM calls
    GROUP BY after->name
    EMIT CHANGES;""", """CREATE TABLE lifetime_view AS
    SELECT after->name AS name,
           count(after->reason) AS total_calls,
           (sum(after->duration_seconds) / 60) as minutes_engaged
    FROM calls
    GROUP BY after->name
    EMIT CHANGES;"""]

SUPPORT = "SELECT name, distinct_reasons, last_reason FROM support_view WHERE name = 'derek';"
LIFETIME = "SELECT name, total_calls, minutes_engaged FROM lifetime_view WHERE name = 'michael';"
# the tutorial's figures, then after "inserting more rows": a fourth call of Michael's, 6 min 6 s
SUPPORT_ROWS = [["derek", 3, "refund"]]
LIFETIME_ROWS = [["michael", 3, 46]]
NEW_CALL = ("michael", "refund", 366)
LIFETIME_AFTER = [["michael", 4, 52]]


def seed(db) -> None:
    """The tutorial's table and rows, in PostgreSQL (psycopg connection)."""
    db.execute(CREATE_TABLE)
    for call in CALLS:
        db.execute(INSERT, call)
