"""A data generator with the settings of Confluent's DatagenConnector, as ksqlDB's quickstarts
use it: `kafka.topic`, `quickstart` (orders, users, pageviews, stock_trades), `max.interval`
(the longest pause between records, in ms), `iterations` (how many; below 1: no end) and
`schema.keyfield` (which field becomes the key).

Record i is drawn from a generator seeded with i, so a restart from the committed position
writes exactly the records that would have come next."""
from __future__ import annotations

import random
import zlib

from ksql.runtime.connect.task import REQUIRED, ConnectorStopped, SourceTask

_TIMES = (1487715775521, 1519273364600)  # the range of the quickstarts' time fields


def _pick(*choices):
    return lambda r, i: r.choice(choices)


def _numbered(prefix: str, low: int, high: int):
    return lambda r, i: f"{prefix}{r.randint(low, high)}"


# name -> (key field, [(field, Connect type, value of record i)]); a struct's type is its fields
QUICKSTARTS = {
    "orders": ("orderid", [
        ("ordertime", "int64", lambda r, i: r.randint(*_TIMES)),
        ("orderid", "int32", lambda r, i: i),
        ("itemid", "string", _numbered("Item_", 1, 999)),
        ("orderunits", "float64", lambda r, i: r.uniform(0.1, 10.0)),
        ("address", [
            ("city", "string", _numbered("City_", 1, 99)),
            ("state", "string", _numbered("State_", 1, 99)),
            ("zipcode", "int64", lambda r, i: r.randint(10000, 99999)),
        ], None),
    ]),
    "users": ("userid", [
        ("registertime", "int64", lambda r, i: r.randint(*_TIMES)),
        ("userid", "string", _numbered("User_", 1, 9)),
        ("regionid", "string", _numbered("Region_", 1, 9)),
        ("gender", "string", _pick("MALE", "FEMALE", "OTHER")),
    ]),
    "pageviews": ("viewtime", [
        ("viewtime", "int64", lambda r, i: 1 + 10 * i),
        ("userid", "string", _numbered("User_", 1, 9)),
        ("pageid", "string", _numbered("Page_", 1, 99)),
    ]),
    "stock_trades": ("symbol", [
        ("side", "string", _pick("BUY", "SELL")),
        ("quantity", "int32", lambda r, i: r.randint(1, 5000)),
        ("symbol", "string", _pick("ZBZX", "ZJZZT", "ZTEST", "ZVV", "ZVZZT", "ZWZZT", "ZXZZT")),
        ("price", "int32", lambda r, i: r.randint(5, 1000)),
        ("account", "string", _pick("ABC123", "LMN456", "XYZ789")),
        ("userid", "string", _numbered("User_", 1, 9)),
    ]),
}
BATCH = 1000  # records a transaction when there is no pause between them


class DatagenTask(SourceTask):
    connector_class = "io.confluent.kafka.connect.datagen.DatagenConnector"
    settings = {"kafka.topic": REQUIRED, "quickstart": REQUIRED, "max.interval": 500, "iterations": 1_000_000,
                "schema.keyfield": ""}
    long_settings = ("max.interval",)

    def configure(self, problems: list[str]) -> None:
        quickstart = (self.values["quickstart"] or "").lower()
        if self.values["quickstart"] is not None and quickstart not in QUICKSTARTS:
            problems.append(f"quickstart - Invalid value {self.values['quickstart']} for configuration quickstart: "
                            f"the built-in generator has {', '.join(sorted(QUICKSTARTS))}")
        self.key_field, self.fields = QUICKSTARTS.get(quickstart, ("", []))
        names = [name for name, _, _ in self.fields]
        if self.values["schema.keyfield"]:
            if self.fields and self.values["schema.keyfield"] not in names:
                problems.append(f"schema.keyfield - {self.values['schema.keyfield']} is not a field of {quickstart}: "
                                f"{', '.join(names)}")
            self.key_field = self.values["schema.keyfield"]
        self.key_converter = self.converter("key", problems)
        self.value_converter = self.converter("value", problems)
        self.seed = zlib.crc32(quickstart.encode())
        self.schema = {"type": "struct", "fields": _schema_fields(self.fields), "optional": False,
                       "name": f"ksql.{quickstart}"}
        self.key_schema = next(({"type": t, "optional": False} for n, t, _ in self.fields
                                if n == self.key_field and isinstance(t, str)), None)
        self._pause = random.Random()

    def topics(self) -> list[str]:
        return [self.values["kafka.topic"]]

    def prepare(self) -> None:
        super().prepare()  # and its schemas registered (AvroConverter): a stream infers its columns at once
        self.key_converter.register(self.key_schema, self.values["kafka.topic"])
        self.value_converter.register(self.schema, self.values["kafka.topic"])

    def record(self, i: int) -> dict:
        return _draw(self.fields, random.Random(self.seed * 1_000_003 + i), i)

    def step(self) -> bool:
        limit = self.values["iterations"]
        if 0 < limit <= self.position:
            raise ConnectorStopped(f"Stopping connector: generated the configured {limit} number of messages")
        count = 1 if self.values["max.interval"] > 0 else BATCH
        if limit > 0:
            count = min(count, limit - self.position)
        rows = [self.record(i) for i in range(self.position, self.position + count)]
        topic = self.values["kafka.topic"]
        keys = [self.key_converter.to_bytes(row.get(self.key_field), self.key_schema, topic) for row in rows]
        values = [self.value_converter.to_bytes(row, self.schema, topic) for row in rows]
        self.write({topic: (keys, values)}, self.position + count)
        return True

    def pause_after(self, progressed: bool) -> float:
        return self._pause.random() * self.values["max.interval"] / 1000


def _draw(fields, r: random.Random, i: int) -> dict:
    return {name: _draw(kind, r, i) if isinstance(kind, list) else make(r, i) for name, kind, make in fields}


def _schema_fields(fields) -> list[dict]:
    out = []
    for name, kind, _ in fields:
        if isinstance(kind, list):
            out.append({"type": "struct", "fields": _schema_fields(kind), "optional": False, "field": name})
        else:
            out.append({"type": kind, "optional": False, "field": name})
    return out
