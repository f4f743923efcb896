"""PostgreSQL change data capture with the settings and the record shape of Debezium's
PostgresConnector: each row change of the tables it captures becomes a record on the topic
`<topic.prefix>.<schema>.<table>`, keyed by the table's primary key, its value the Debezium
envelope {before, after, source, op, ts_ms} (op: r for the first snapshot's rows, c, u, d),
a delete followed by a tombstone.

It reads the database's logical decoding through a replication slot (`slot.name`, made with
PostgreSQL's built-in test_decoding plugin when missing; the server needs wal_level=logical).
Changes come a whole transaction at a time, in commit order; the task commits each poll's
records with the commit position of its last transaction, then lets the slot move past it, so
a restart neither repeats nor loses a transaction.

Column values: integers and booleans as such, real and double precision as floats, numeric
as a double (`decimal.handling.mode` double, the default here) or its text (string), dates as
days since 1970, timestamps without time zone as microseconds since 1970, everything else as
its text."""
from __future__ import annotations

import datetime
import re
import time

from ksql.runtime.connect.task import REQUIRED, SourceTask

_IDENT = r'"(?:[^"]|"")*"|[^."\s:]+'
_CHANGE = re.compile(rf"^table ({_IDENT})\.({_IDENT}): (INSERT|UPDATE|DELETE): (.*)$", re.S)
_COLUMN = re.compile(r'("(?:[^"]|"")*"|[^\[\s]+)\[((?:[^\[\]]|\[\])+)\]:(\'(?:[^\']|\'\')*\'|\S+)')
_OPS = {"INSERT": "c", "UPDATE": "u", "DELETE": "d"}
_EPOCH_DAY = datetime.date(1970, 1, 1)
_EPOCH = datetime.datetime(1970, 1, 1)

# PostgreSQL type -> Connect type, for the types not carried as text
_TYPES = {"smallint": "int16", "integer": "int32", "bigint": "int64", "real": "float32",
          "double precision": "float64", "boolean": "boolean", "date": "int32",
          "timestamp without time zone": "int64"}


class PostgresCdcTask(SourceTask):
    connector_class = "io.debezium.connector.postgresql.PostgresConnector"
    settings = {"database.hostname": REQUIRED, "database.port": 5432, "database.user": REQUIRED,
                "database.password": "", "database.dbname": REQUIRED, "topic.prefix": "", "database.server.name": "",
                "table.include.list": "", "table.whitelist": "", "slot.name": "debezium", "snapshot.mode": "initial",
                "tombstones.on.delete": True, "decimal.handling.mode": "double", "poll.interval.ms": 500}

    def configure(self, problems: list[str]) -> None:
        self.prefix = self.values["topic.prefix"] or self.values["database.server.name"]
        if not self.prefix:
            problems.append('topic.prefix - Missing required configuration "topic.prefix" which has no default value.')
        if self.values["snapshot.mode"] not in ("initial", "never"):
            problems.append(f"snapshot.mode - Invalid value {self.values['snapshot.mode']} for configuration "
                            f"snapshot.mode: the built-in connector takes initial or never")
        if self.values["decimal.handling.mode"] not in ("double", "string"):
            problems.append(f"decimal.handling.mode - Invalid value {self.values['decimal.handling.mode']} for "
                            f"configuration decimal.handling.mode: the built-in connector takes double or string")
        patterns = self.values["table.include.list"] or self.values["table.whitelist"]
        try:
            self.include = [re.compile(p.strip()) for p in patterns.split(",") if p.strip()]
        except re.error as error:
            problems.append(f"table.include.list - Invalid value {patterns}: {error}")
        self.key_converter = self.converter("key", problems)
        self.value_converter = self.converter("value", problems)
        self.tables: dict[tuple[str, str], _Table | None] = {}  # None: not captured
        self._connection = None

    def topics(self) -> list[str]:
        return sorted(t.topic for t in self.tables.values() if t is not None)

    def pause_after(self, progressed: bool) -> float:
        return 0.0 if progressed else self.values["poll.interval.ms"] / 1000

    # -- the database

    def open(self) -> None:
        import psycopg

        v = self.values
        self._connection = psycopg.connect(host=v["database.hostname"], port=v["database.port"],
                                           user=v["database.user"], password=v["database.password"],
                                           dbname=v["database.dbname"], autocommit=True, connect_timeout=10)
        slot = self._query("SELECT plugin FROM pg_replication_slots WHERE slot_name = %s", (v["slot.name"],))
        if not slot:
            self._query("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (v["slot.name"],))
        elif slot[0][0] != "test_decoding":
            raise RuntimeError(f"The replication slot {v['slot.name']} decodes with {slot[0][0]}; the built-in "
                               f"connector reads test_decoding: set slot.name to a slot of its own")
        for schema, table in self._query("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
                                         "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname "
                                         "NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
                                         "'pg_toast%%' ORDER BY 1, 2"):
            self._table(schema, table)
        if self.position == 0 and v["snapshot.mode"] == "initial":
            self._snapshot()

    def _query(self, sql: str, args=()) -> list:
        return self._connection.execute(sql, args).fetchall()

    def _table(self, schema: str, table: str):
        """The captured table of a name (looked up once), or None when it is not captured."""
        if (schema, table) not in self.tables:
            name = f"{schema}.{table}"
            captured = not self.include or any(p.fullmatch(name) for p in self.include)
            self.tables[(schema, table)] = _Table(self, schema, table) if captured else None
        return self.tables[(schema, table)]

    def _snapshot(self) -> None:
        """Every row of the captured tables as a read (op r), then the position the slot is at:
        streaming goes on from there."""
        lsn = self._query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
                          (self.values["slot.name"],))[0][0]
        records: dict = {}
        for table in [t for t in self.tables.values() if t is not None]:
            columns = ", ".join(f"{_quote(c)}::text" for c in table.columns)
            rows = self._query(f"SELECT {columns} FROM {_quote(table.schema)}.{_quote(table.table)}")
            for row in rows:
                table.add(records, "r", None, dict(zip(table.columns, row)), {"snapshot": "true", "lsn": _lsn(lsn)})
        self.write(records, max(_lsn(lsn), 1))

    def step(self) -> bool:
        slot = self.values["slot.name"]
        rows = self._query("SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes(%s, NULL, 2000)",
                           (slot,))
        records: dict = {}
        changes: list = []
        last = seen = None
        for lsn, xid, data in rows:
            if data.startswith("BEGIN"):
                changes = []
            elif data.startswith("COMMIT"):
                commit = _lsn(lsn)
                seen = lsn
                if commit > self.position:
                    for change in changes:
                        self._record(records, change, xid, commit)
                    last = commit
            else:
                changes.append(data)
        if last is not None:
            self.write(records, last)
        if seen is not None:  # (transactions committed before a restart were written then: skipped)
            self._query("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, seen))
        return last is not None

    def _record(self, records: dict, change: str, xid: str, commit: int) -> None:
        match = _CHANGE.match(change)
        if match is None:
            return
        schema, table, op, data = _unquote(match[1]), _unquote(match[2]), match[3], match[4]
        captured = self._table(schema, table)
        if captured is None:
            return
        before = None
        if data.startswith("old-key: "):
            old, _, data = data[len("old-key: "):].partition(" new-tuple: ")
            before = _values(old)
        values = {} if data == "(no-tuple-data)" else _values(data)
        source = {"snapshot": "false", "txId": int(xid), "lsn": commit}
        if op == "DELETE":
            captured.add(records, "d", values or before, None, source)
        else:
            captured.add(records, _OPS[op], before, values, source)

    def stop(self, timeout: float = 10) -> None:
        super().stop(timeout)
        if self._connection is not None:
            self._connection.close()


class _Table:
    """A captured table: its columns, their types, its primary key, its topic and schemas."""

    def __init__(self, task: PostgresCdcTask, schema: str, table: str):
        self.task, self.schema, self.table = task, schema, table
        self.topic = f"{task.prefix}.{schema}.{table}"
        rows = task._query(
            "SELECT a.attname, format_type(a.atttypid, NULL), a.attnotnull, COALESCE(i.indisprimary, false) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey) "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (schema, table))
        self.columns = [name for name, _, _, _ in rows]
        self.types = {name: kind for name, kind, _, _ in rows}
        self.key = [name for name, _, _, primary in rows if primary]
        numeric = "float64" if task.values["decimal.handling.mode"] == "double" else "string"
        fields = [{"type": _TYPES.get(kind, numeric if kind == "numeric" else "string"), "optional": not not_null,
                   "field": name} for name, kind, not_null, _ in rows]
        self.connect_types = {f["field"]: f["type"] for f in fields}
        value = {"type": "struct", "fields": fields, "optional": True, "name": f"{self.topic}.Value"}
        self.key_schema = {"type": "struct", "name": f"{self.topic}.Key", "optional": False,
                           "fields": [f for f in fields if f["field"] in self.key]} if self.key else None
        source = {"type": "struct", "name": "io.debezium.connector.postgresql.Source", "optional": False, "fields": [
            {"type": t, "optional": optional, "field": n} for n, t, optional in (
                ("version", "string", False), ("connector", "string", False), ("name", "string", False),
                ("ts_ms", "int64", False), ("snapshot", "string", True), ("db", "string", False),
                ("schema", "string", False), ("table", "string", False), ("txId", "int64", True),
                ("lsn", "int64", True))]}
        self.envelope = {"type": "struct", "name": f"{self.topic}.Envelope", "optional": False, "fields": [
            {**value, "field": "before"}, {**value, "field": "after"}, {**source, "field": "source"},
            {"type": "string", "optional": False, "field": "op"}, {"type": "int64", "optional": True, "field": "ts_ms"}]}

    def typed(self, row: dict | None) -> dict | None:
        """A row's text values as the record carries them (a column missing from the change: null)."""
        if row is None:
            return None
        return {name: _typed(row.get(name), self.types[name], self.connect_types[name]) for name in self.columns}

    def add(self, records: dict, op: str, before: dict | None, after: dict | None, source: dict) -> None:
        now = int(time.time() * 1000)
        before, after = self.typed(before), self.typed(after)
        key_row = after if after is not None else before
        key = {k: key_row[k] for k in self.key} if self.key and key_row is not None else None
        source = {"version": "embedded", "connector": "postgresql", "name": self.task.prefix, "ts_ms": now,
                  "db": self.task.values["database.dbname"], "schema": self.schema, "table": self.table,
                  "txId": None, **source}
        value = {"before": before, "after": after, "source": source, "op": op, "ts_ms": now}
        keys, values = records.setdefault(self.topic, ([], []))
        raw_key = self.task.key_converter.to_bytes(key, self.key_schema, self.topic)
        keys.append(raw_key)
        values.append(self.task.value_converter.to_bytes(value, self.envelope, self.topic))
        if op == "d" and key is not None and self.task.values["tombstones.on.delete"]:
            keys.append(raw_key)
            values.append(None)


def _values(data: str) -> dict:
    """test_decoding's `name[type]:value ...` as {name: text or None}."""
    out = {}
    for name, _, value in _COLUMN.findall(data):
        if value == "null":
            out[_unquote(name)] = None
        elif value.startswith("'"):
            out[_unquote(name)] = value[1:-1].replace("''", "'")
        else:
            out[_unquote(name)] = value
    return out


def _typed(text: str | None, pg_type: str, connect_type: str):
    if text is None:
        return None
    if connect_type in ("int16", "int32", "int64"):
        if pg_type == "date":
            return (datetime.date.fromisoformat(text) - _EPOCH_DAY).days
        if pg_type == "timestamp without time zone":
            delta = datetime.datetime.fromisoformat(text) - _EPOCH
            return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return int(text)
    if connect_type in ("float32", "float64"):
        return float(text)
    if connect_type == "boolean":
        return text in ("t", "true")
    return text


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name
