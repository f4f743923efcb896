"""Statements that declare and drop sources and types: CREATE STREAM|TABLE, DROP, ALTER, CREATE
TYPE, DROP TYPE, ASSERT TOPIC|SCHEMA."""
from __future__ import annotations

import time


from ksql.errors import KsqlError, KsqlStatementError
from ksql.parser import (ast)
from ksql.planner import types as T
from ksql.planner.metastore import DataSource
from ksql.planner.schema import KEY, VALUE, Column, LogicalSchema
from ksql.results import StatusResult, TextResult
from ksql.runtime.formats.make import make_format
from ksql.engine.queries import check_upgrade
from ksql.engine.session import Session
from ksql.engine.with_clause import (REGISTRY_FORMATS, check_key_format, check_no_map_keys, checked_topic_name,
                                     name_taken, register_schemas, with_default_wrapping)
from ksql.planner.with_clause import (CREATE_PROPERTIES, bool_prop, check_with_clause, int_property,
                                      normalize_properties)
from ksql.planner.ddl import created_source, declared_columns, source_schema
from ksql.runtime.formats.serdes import KNOWN_FORMATS


class DdlStatements:
    """CREATE / DROP / ALTER of sources and types, as part of KsqlEngine (a mixin)."""

    def _exec_CreateSource(self, stmt: ast.CreateSource, text: str, session: Session):
        existing = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        if stmt.or_replace and (stmt.is_source or (existing is not None and existing.is_source)):
            raise KsqlStatementError(f"Cannot add {kind} '{stmt.name}': CREATE OR REPLACE is not supported on "
                                     f"source {kind}s.")
        refused = name_taken(stmt, existing, text)
        if refused is not None:
            return refused
        source = self._source_from_create(stmt, text, session)
        if existing is not None:
            check_upgrade(existing, source.schema)
            source.read_queries, source.write_queries = existing.read_queries, existing.write_queries
        topic = self.log.topic(source.topic)
        props = normalize_properties(stmt.properties)
        partitions = int_property(props, "PARTITIONS")
        replicas = int_property(props, "REPLICAS")
        if topic is None:
            if partitions is None:
                raise KsqlStatementError(
                    f"Topic '{source.topic}' does not exist. If you want to create a new topic for the "
                    f"{kind} please re-run the statement providing the required 'PARTITIONS' configuration "
                    f"in the WITH clause (and optionally 'REPLICAS'). For example: "
                    f"CREATE {stmt.kind} {stmt.name} (ID INT) WITH (KAFKA_TOPIC='{source.topic}', "
                    f"PARTITIONS=2, REPLICAS=1, FORMAT='JSON');")
            self._create_topic(source.topic, partitions, "compact" if source.is_table else "delete",
                                  replicas=replicas)
        elif partitions is not None and partitions != topic.partitions and not self._replaying:
            raise KsqlStatementError(
                f"A Kafka topic with the name '{source.topic}' already exists, with different partition/replica "
                f"configuration than required. KSQL expects {partitions} partitions (topic has "
                f"{topic.partitions}), 1 replication factor (topic has 1).")
        source.partitions = self.log.topic(source.topic).partitions
        if not self._replaying:
            register_schemas(source, always=False)
        self._record_command(text, session)
        self.metastore.put(source)
        noun = "Stream" if stmt.kind == "STREAM" else "Table"
        return StatusResult(text, f"{noun} created", f"{kind}/`{stmt.name}`/create")

    def _source_from_create(self, stmt: ast.CreateSource, text: str, session: Session | None = None) -> DataSource:
        props = normalize_properties(stmt.properties)
        check_with_clause(props, CREATE_PROPERTIES)
        key_format, value_format = self._formats(props)  # an unknown format is the first thing to report
        if not stmt.columns and not set(REGISTRY_FORMATS) & {key_format, value_format}:
            raise KsqlStatementError(
                "The statement does not define any columns. Column definitions are required unless the "
                "formats support schema inference (AVRO, PROTOBUF, JSON_SR).")
        columns = declared_columns(stmt, self.metastore.types)
        columns += self._inferred_columns(props, key_format, value_format, columns)
        schema = source_schema(stmt, columns)
        topic = props.get("KAFKA_TOPIC")
        if topic is None:
            raise KsqlStatementError("Missing required property \"KAFKA_TOPIC\" which has no default value.")
        key_format, value_format = self._formats(props)
        props = with_default_wrapping(props, value_format, schema.value,
                                      {**self.properties, **(session.properties if session else {})})
        source = created_source(stmt, text, props, schema, checked_topic_name(topic), key_format, value_format)
        # Fail now, not when the first record arrives, if a format cannot hold the columns.
        check_no_map_keys(schema.key)
        check_key_format(key_format, source)
        make_format(value_format, schema.value, key=False, options=source.value_options())
        return source

    def _inferred_columns(self, props: dict, key_format: str, value_format: str, declared: list) -> list[Column]:
        """Key or value columns the statement leaves out, read from the topic's schema in the
        registry (the latest of `<topic>-key` / `<topic>-value`, or KEY_SCHEMA_ID /
        VALUE_SCHEMA_ID): a record's fields, or one column ROWKEY / ROWVAL for a bare type."""
        # loaded when a registry format is first used, as make_format loads them, not at start-up
        from ksql.runtime.formats import avro, json_sr, proto_schema

        topic = props.get("KAFKA_TOPIC")
        out = []
        for part, fmt, namespace, single in (("key", key_format, KEY, "ROWKEY"), ("value", value_format, VALUE, "ROWVAL")):
            if fmt not in REGISTRY_FORMATS or topic is None or any(
                    c.namespace == namespace for c in declared):
                continue
            schema_id = props.get(f"{part.upper()}_SCHEMA_ID")
            if schema_id is not None:
                found_id = int_property(props, f"{part.upper()}_SCHEMA_ID")
                _, text = self.schema_registry.schema(found_id)
            else:
                latest = self.schema_registry.latest(f"{topic}-{part}")
                if latest is None:
                    if part == "key":
                        continue  # no key schema: the source has no key columns
                    raise KsqlStatementError(
                        f"Schema for message {part}s on topic '{topic}' does not exist in the Schema Registry."
                        f"\nSubject: {topic}-{part}")
                found_id, text = latest[0], latest[3]
            infer = {"AVRO": avro.inferred_columns, "JSON_SR": json_sr.inferred_columns,
                     "PROTOBUF": proto_schema.inferred_columns}[fmt]
            # named by id, the schema's own spelling is kept (as ksqlDB does); an unwrapped
            # value is one column of the schema's whole type, as a key is
            whole = part == "key" or (fmt != "PROTOBUF" and bool_prop(props.get("WRAP_SINGLE_VALUE")) is False)
            for name, sql_type in infer(found_id, text, whole, schema_id is not None,
                                        props.get(f"{part.upper()}_SCHEMA_FULL_NAME")):
                out.append(Column(name or single, sql_type, namespace))
        return out

    def _formats(self, props: dict, defaults: DataSource | None = None) -> tuple[str, str]:
        both = props.get("FORMAT")
        for which in ("KEY_FORMAT", "VALUE_FORMAT"):
            if both is not None and which in props:
                raise KsqlStatementError(
                    f"Cannot supply both '{which}' and 'FORMAT' properties, as 'FORMAT' sets both key and value "
                    f"formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.")
        key_format = props.get("KEY_FORMAT", both)
        value_format = props.get("VALUE_FORMAT", both)
        if key_format is None:
            key_format = defaults.key_format if defaults else self.properties[
                "ksql.persistence.default.format.key"]
        if value_format is None:
            value_format = defaults.value_format if defaults else self.properties.get(
                "ksql.persistence.default.format.value")
        if value_format is None:
            raise KsqlStatementError(
                "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. "
                "Either provide one or set a default via the 'ksql.persistence.default.format.value' config.")
        key_format, value_format = str(key_format).upper(), str(value_format).upper()

        for name in (key_format, value_format):
            if name not in KNOWN_FORMATS:
                raise KsqlStatementError(f"Unknown format: {name}")
        return key_format, value_format

    def _exec_DropSource(self, stmt: ast.DropSource, text: str, session: Session):
        source = self.metastore.get(stmt.name)
        kind = stmt.kind.lower()
        if source is None:
            if stmt.if_exists:
                return StatusResult(text, f"Source `{stmt.name}` does not exist.")
            raise KsqlStatementError(f"{kind.capitalize()} {stmt.name} does not exist.")
        if source.kind != stmt.kind:
            raise KsqlStatementError(
                f"Incompatible data source type is {source.kind}, but statement was DROP {stmt.kind}")
        if source.is_internal:
            raise KsqlStatementError(f"Cannot drop {stmt.name}: it is the engine's processing log.")
        if source.is_source and stmt.delete_topic:
            raise KsqlStatementError(f"Cannot delete topic for read-only source: {stmt.name}")
        readers = sorted({self.queries[q].sink.name for q in source.read_queries if q in self.queries})
        if readers:
            raise KsqlStatementError(
                f"Cannot drop {stmt.name}.\nThe following streams and/or tables read from this source: "
                f"[{', '.join(readers)}].\nYou need to drop them before dropping {stmt.name}.")
        inserts = sorted(q for q in source.write_queries if q in self.queries and self.queries[q].kind == "INSERT")
        if inserts:
            raise KsqlStatementError(
                f"Cannot drop {stmt.name}.\nThe following queries write into this source: "
                f"[{', '.join(inserts)}].\nYou need to terminate them before dropping {stmt.name}.")
        # The query that created the source goes with it.
        for query_id in sorted(q for q in source.write_queries if q in self.queries):
            self._terminate(query_id)
        self._record_command(text, session)
        self.metastore.remove(stmt.name)
        if stmt.delete_topic and self.log.topic(source.topic) is not None:
            still_used = any(s.topic == source.topic for s in self.metastore.sources())
            if not still_used:
                self.log.delete_topic(source.topic)
        return StatusResult(text, f"Source `{stmt.name}` (topic: {source.topic}) was dropped.",
                            f"{kind}/`{stmt.name}`/drop")

    def _exec_AlterSource(self, stmt: ast.AlterSource, text: str, session: Session):
        source = self.metastore.get(stmt.name)
        if source is None:
            raise KsqlStatementError(f"Source {stmt.name} does not exist.")
        if source.kind != stmt.kind:
            raise KsqlStatementError(f"Incompatible data source type is {source.kind}, but statement was "
                                     f"ALTER {stmt.kind}")
        if source.is_source:
            kind = stmt.kind.lower()
            raise KsqlStatementError(f"Cannot alter {kind} '{stmt.name}': ALTER operations are not supported on "
                                     f"source {kind}s.")
        if any(self.queries.get(q) and self.queries[q].kind != "INSERT" for q in source.write_queries):
            raise KsqlStatementError("ALTER command is not supported for CREATE ... AS statements.")
        columns = list(source.schema.columns)
        for element in stmt.columns:
            if source.schema.find(element.name) is not None or any(c.name == element.name for c in columns):
                raise KsqlStatementError(f"Cannot add column `{element.name}` to schema. "
                                         f"A column with the same name already exists.")
            columns.append(Column(element.name, T.from_ref(element.type, self.metastore.types)))
        self._record_command(text, session)
        source.schema = LogicalSchema(tuple(columns))
        source.sql = text if not source.sql else source.sql
        return StatusResult(text, f"{'Stream' if source.kind == 'STREAM' else 'Table'} {stmt.name} altered.",
                            f"{stmt.kind.lower()}/`{stmt.name}`/alter")

    def _exec_CreateType(self, stmt: ast.CreateType, text: str, session: Session):
        if stmt.name in self.metastore.types:
            if stmt.if_not_exists:
                return StatusResult(text, f"Type {stmt.name} already exists.")
            raise KsqlStatementError(f"Cannot register custom type '{stmt.name}' since it is already registered "
                                     f"with type: {self.metastore.types[stmt.name]}")
        sql_type = T.from_ref(stmt.type, self.metastore.types)
        self._record_command(text, session)
        self.metastore.types[stmt.name] = sql_type
        return StatusResult(text, f"Registered custom type with name '{stmt.name}' and SQL type {sql_type}",
                            f"type/`{stmt.name}`/create")

    def _exec_DropType(self, stmt: ast.DropType, text: str, session: Session):
        if stmt.name not in self.metastore.types:
            if stmt.if_exists:
                return StatusResult(text, f"Type {stmt.name} does not exist.")
            raise KsqlStatementError(f"Type {stmt.name} does not exist.")
        self._record_command(text, session)
        del self.metastore.types[stmt.name]
        return StatusResult(text, f"Dropped type '{stmt.name}'", f"type/`{stmt.name}`/drop")

    def _exec_AssertTopic(self, stmt: ast.AssertTopic, text: str, session: Session):
        """ASSERT [NOT EXISTS] TOPIC: retried until it holds or its timeout (else the server's
        ksql.assert.topic.default.timeout.ms) passes; PARTITIONS and REPLICAS are checked."""
        def check() -> str | None:
            topic = self.log.topic(stmt.name)
            if not stmt.exists:
                return f"Topic {stmt.name} exists" if topic is not None else None
            if topic is None:
                return f"Topic {stmt.name} does not exist"
            errors = []
            for key, wanted in stmt.properties.items():
                actual = {"PARTITIONS": topic.partitions, "REPLICAS": getattr(topic, "replicas", 1)}.get(key.upper())
                if actual is None:
                    errors.append(f"Cannot assert unknown topic property: {key}")
                elif not (isinstance(wanted, int) and not isinstance(wanted, bool) and wanted == actual):
                    errors.append(f"Mismatched configuration for topic {stmt.name}: For config {key.lower()}, "
                                  f"expected {wanted} got {actual}")
            return "\n".join(errors) or None

        self._assert_until(check, stmt.timeout, "ksql.assert.topic.default.timeout.ms", session)
        return TextResult(text, "assert_topic", f"Topic {stmt.name} {'exists' if stmt.exists else 'does not exist'}",
                          {"topicName": stmt.name, "exists": stmt.exists})

    def _exec_AssertSchema(self, stmt: ast.AssertSchema, text: str, session: Session):
        """ASSERT [NOT EXISTS] SCHEMA: by subject (its latest version), by id, or both (that id
        registered under that subject), retried like ASSERT TOPIC."""
        if stmt.subject is None and stmt.id is None:
            raise KsqlStatementError("ASSERT SCHEMA statements must include a subject name or an id")
        described = "Schema with" + (f" subject name {stmt.subject}" if stmt.subject is not None else "") + \
            (f" id {stmt.id}" if stmt.id is not None else "")

        def check() -> str | None:
            found = self._schema_exists(stmt.subject, stmt.id)
            if found and not stmt.exists:
                return f"{described} exists"
            if not found and stmt.exists:
                return f"{described} does not exist"
            return None

        self._assert_until(check, stmt.timeout, "ksql.assert.schema.default.timeout.ms", session)
        return TextResult(text, "assert_schema", f"{described} {'exists' if stmt.exists else 'does not exist'}",
                          {"subject": stmt.subject, "id": stmt.id, "exists": stmt.exists})

    def _schema_exists(self, subject: str | None, schema_id: int | None) -> bool:
        registry = self.schema_registry
        try:
            if subject is not None and schema_id is not None:
                return any((registry.version(subject, v) or (None,))[0] == schema_id for v in registry.versions(subject))
            if schema_id is not None:
                registry.schema(schema_id)
                return True
            return registry.latest(subject) is not None
        except KsqlError as error:
            if getattr(error, "status", 404) == 404:
                return False
            raise KsqlStatementError(f"Cannot check schema existence: {error}") from None

    def _assert_until(self, check, timeout: int | None, default_property: str, session: Session) -> None:
        """Run `check` (a failure's message, or None) until it passes or the time is up."""
        if timeout is None:
            merged = {**self.properties, **session.properties}
            timeout = int(merged.get(default_property, 1000))
        deadline = time.monotonic() + timeout / 1000
        while True:
            failure = check()
            if failure is None:
                return
            if time.monotonic() >= deadline:
                raise KsqlStatementError(failure)
            self.log.wait(0.1)
