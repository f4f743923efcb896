"""Schema registries: where the AVRO format (and its kin) keeps the schemas its records name.

Records in those formats carry Confluent's wire format: a zero magic byte and the 4-byte
big-endian id of the writer's schema, then the encoded data. Schemas are registered under
TopicNameStrategy subjects, `<topic>-key` and `<topic>-value`.

- `EmbeddedRegistry`: the default. Keeps its schemas in the compacted topic `_schemas` of the
  engine's own log (created with the first schema), so `ksql`, `ksql test` and `ksql server`
  need no other server; `ksql server` also serves it over Confluent's REST API.
- `RemoteRegistry`: any Confluent-compatible registry (`ksql.schema.registry.url`, with
  `ksql.schema.registry.basic.auth.user.info` for basic authentication).

The engine installs its registry with `install()`; formats find it with `current()`.
"""
from __future__ import annotations

import json
import threading

import pyarrow as pa
import pyarrow.compute as pc

from ksql.parser.errors import KsqlError
from ksql.runtime.log.embedded import make_records
from ksql.runtime.log.reading import read_to_end

TOPIC = "_schemas"
MAGIC = 0
HEADER_SIZE = 5  # the magic byte and a 4-byte schema id, before every record's body
_NO_END = 2**31 - 1  # binary_slice to the end (without a stop pyarrow can fail on some batches)


def bodies(payloads: pa.BinaryArray) -> pa.BinaryArray:
    """The payloads without the header Confluent's serializers put before each record."""
    return pc.binary_slice(payloads, HEADER_SIZE, _NO_END)


class RegistryError(KsqlError):
    def __init__(self, message: str, status: int = 404):
        super().__init__(message)
        self.status = status  # the HTTP status a registry answers with


class EmbeddedRegistry:
    def __init__(self, log):
        self.log = log
        self._lock = threading.RLock()
        self._by_id: dict[int, tuple[str, str]] = {}  # id -> (schema type, schema text)
        self._subjects: dict[str, list[int]] = {}  # subject -> ids, by version
        self._read = 0  # how far the topic has been read
        self._compatibility: dict[str | None, str] = {None: "BACKWARD"}  # per subject; None: global
        self._references: dict[int, list[dict]] = {}  # id -> [{"name", "subject", "version"}]
        self._load()

    def _load(self) -> None:
        """Read what the topic gained (other servers may register schemas too)."""
        if self.log.topic(TOPIC) is None:
            return
        # to the end: a schema just registered (here or by another server) must be found
        for batch, next_offset in read_to_end(self.log, TOPIC, 0, self._read):
            self._read = next_offset
            if batch is None:
                continue
            for value in batch.column(3).to_pylist():
                if value is None:
                    continue
                entry = json.loads(value)
                if "compatibilityLevel" in entry:  # a configuration record
                    self._compatibility[entry.get("subject")] = entry["compatibilityLevel"]
                    continue
                schema = (entry.get("schemaType", "AVRO"), entry["schema"])
                if self._by_id.setdefault(entry["id"], schema) != schema:
                    continue  # two servers took the same id at once: the first one written keeps it
                if entry.get("references"):
                    self._references[entry["id"]] = entry["references"]
                versions = self._subjects.setdefault(entry["subject"], [])
                if entry["id"] not in versions:
                    versions.append(entry["id"])

    # -- Confluent's operations

    def register(self, subject: str, schema: str, schema_type: str = "AVRO", schema_id: int | None = None,
                 references: list[dict] | None = None) -> int:
        """The id of this schema under the subject, registering it as a new version if needed
        (with the given id, as Confluent's import mode allows, if one is given). `references`
        name the other subjects' schemas it imports: [{"name", "subject", "version"}]."""
        with self._lock:
            self._load()
            for known in self._subjects.get(subject, []):
                if self._by_id[known] == (schema_type, schema) and schema_id in (None, known):
                    return known
            if schema_id is not None and self._by_id.get(schema_id, (schema_type, schema)) != (schema_type, schema):
                raise RegistryError(f"Schema id {schema_id} is already taken by another schema")
            versions = self._subjects.get(subject)
            if versions and schema_type == "AVRO" and self.compatibility(subject) == "BACKWARD":
                reason = backward_incompatibility(json.loads(schema), json.loads(self._by_id[versions[-1]][1]))
                if reason:
                    raise RegistryError(f"Schema being registered is incompatible with an earlier schema "
                                        f"for subject \"{subject}\": {reason}", 409)
            if schema_id is None:
                schema_id = next((i for i, s in self._by_id.items() if s == (schema_type, schema)),
                                 max(self._by_id, default=0) + 1)
            version = len(self._subjects.get(subject, [])) + 1
            if self.log.topic(TOPIC) is None:
                self.log.create_topic(TOPIC, 1, "compact")

            entry = {"subject": subject, "version": version, "id": schema_id, "schemaType": schema_type,
                     "schema": schema, **({"references": references} if references else {})}
            key = json.dumps({"subject": subject, "version": version}).encode()
            self.log.append(TOPIC, 0, make_records([key], [json.dumps(entry).encode()], [0]))
            self._load()
            if self._by_id.get(schema_id) != (schema_type, schema):  # another server won the id: again
                return self.register(subject, schema, schema_type, references=references)
            return schema_id

    def schema(self, schema_id: int) -> tuple[str, str]:
        """(schema type, schema text) of an id."""
        with self._lock:
            if schema_id not in self._by_id:
                self._load()
            try:
                return self._by_id[schema_id]
            except KeyError:
                raise RegistryError(f"Schema {schema_id} not found") from None

    def references(self, schema_id: int) -> list[dict]:
        with self._lock:
            return list(self._references.get(schema_id, []))

    def latest(self, subject: str) -> tuple[int, int, str, str] | None:
        """(id, version, schema type, schema text) of the subject's latest version."""
        with self._lock:
            self._load()
            versions = self._subjects.get(subject)
            if not versions:
                return None
            return (versions[-1], len(versions), *self._by_id[versions[-1]])

    def version(self, subject: str, version: int) -> tuple[int, str, str] | None:
        with self._lock:
            if not 1 <= version <= len(self._subjects.get(subject, [])):
                self._load()  # (a version once known never changes: read the topic only when missing)
            versions = self._subjects.get(subject, [])
            if not 1 <= version <= len(versions):
                return None
            return (versions[version - 1], *self._by_id[versions[version - 1]])

    def subjects(self) -> list[str]:
        with self._lock:
            self._load()
            return sorted(self._subjects)

    def compatibility(self, subject: str | None = None) -> str:
        with self._lock:
            self._load()
            return self._compatibility.get(subject, self._compatibility[None])

    def set_compatibility(self, level: str, subject: str | None = None) -> None:
        level = level.upper()
        if level not in ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
                         "FULL_TRANSITIVE"):
            raise RegistryError(f"Invalid compatibility level {level}", 422)
        with self._lock:
            if self._compatibility.get(subject) == level:
                return
            if self.log.topic(TOPIC) is None:
                self.log.create_topic(TOPIC, 1, "compact")

            # kept in the topic, as Confluent's registry keeps its configuration, so it lasts
            key = json.dumps({"keytype": "CONFIG", "subject": subject}).encode()
            value = json.dumps({"subject": subject, "compatibilityLevel": level}).encode()
            self.log.append(TOPIC, 0, make_records([key], [value], [0]))
            self._load()

    def versions(self, subject: str) -> list[int]:
        with self._lock:
            self._load()
            return list(range(1, len(self._subjects.get(subject, [])) + 1))


def imported_schemas(registry, schema_id: int) -> dict[str, str]:
    """The texts of the schemas a schema imports, by the name it imports them under, and of
    what they import in turn."""
    found: dict[str, str] = {}
    pending = list(registry.references(schema_id))
    while pending:
        reference = pending.pop()
        if reference["name"] in found:
            continue
        version = registry.version(reference["subject"], int(reference["version"]))
        if version is None:
            raise RegistryError(f"Schema reference {reference['name']} ({reference['subject']} version "
                                f"{reference['version']}) not found")
        found[reference["name"]] = version[2]
        pending += registry.references(version[0])
    return found


def backward_incompatibility(new, old) -> str | None:
    """Why data written with the `old` Avro schema cannot be read with the `new` one (None:
    it can). Records match fields by name; a field only the new schema has needs a default."""
    new, old = _unwrap_named(new), _unwrap_named(old)
    if isinstance(new, list) or isinstance(old, list):
        new_branches = new if isinstance(new, list) else [new]
        for branch in (old if isinstance(old, list) else [old]):
            if all(backward_incompatibility(n, branch) for n in new_branches):
                return f"the type {json.dumps(branch)} is no longer allowed"
        return None
    new_kind = new if isinstance(new, str) else new.get("type")
    old_kind = old if isinstance(old, str) else old.get("type")
    if new_kind != old_kind and (old_kind, new_kind) not in _PROMOTIONS:
        return f"{old_kind} cannot be read as {new_kind}"
    if new_kind == "record":
        old_fields = {f["name"]: f for f in old["fields"]}
        for field in new["fields"]:
            if field["name"] in old_fields:
                reason = backward_incompatibility(field["type"], old_fields[field["name"]]["type"])
                if reason:
                    return f"field {field['name']}: {reason}"
            elif "default" not in field:
                return f"the new field {field['name']} has no default"
    if new_kind == "array":
        return backward_incompatibility(new["items"], old["items"])
    if new_kind == "map":
        return backward_incompatibility(new["values"], old["values"])
    return None


# What Avro lets a reader widen: (written as, read as).
_PROMOTIONS = {("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"),
               ("float", "double"), ("string", "bytes"), ("bytes", "string")}


def _unwrap_named(schema):
    """A {"type": {...}} wrapper or a bare {"type": "int"} as the type it holds."""
    if isinstance(schema, dict) and isinstance(schema.get("type"), (dict, list)):
        return schema["type"]
    if isinstance(schema, dict) and schema.get("type") in _BARE and len(schema) == 1:
        return schema["type"]
    return schema


_BARE = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


class RemoteRegistry:
    """A Confluent-compatible schema registry over HTTP."""

    def __init__(self, url: str, user_info: str | None = None):
        import httpx

        auth = tuple(user_info.split(":", 1)) if user_info else None
        self._client = httpx.Client(base_url=url.rstrip("/"), auth=auth, timeout=30,
                                    headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
        self._by_id: dict[int, tuple[str, str]] = {}
        self._references: dict[int, list[dict]] = {}

    def _call(self, method: str, path: str, **kwargs):
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise RegistryError(f"Could not reach the schema registry at {self._client.base_url}: {error}") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise RegistryError(f"The schema registry answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def register(self, subject: str, schema: str, schema_type: str = "AVRO", schema_id: int | None = None,
                 references: list[dict] | None = None) -> int:
        body = {"schema": schema} if schema_type == "AVRO" else {"schema": schema, "schemaType": schema_type}
        if schema_id is not None:
            body["id"] = schema_id
        if references:
            body["references"] = references
        answer = self._call("POST", f"/subjects/{subject}/versions", json=body)
        return int(answer["id"])

    def schema(self, schema_id: int) -> tuple[str, str]:
        if schema_id not in self._by_id:
            answer = self._call("GET", f"/schemas/ids/{schema_id}")
            if answer is None:
                raise RegistryError(f"Schema {schema_id} not found")
            self._by_id[schema_id] = (answer.get("schemaType", "AVRO"), answer["schema"])
            self._references[schema_id] = answer.get("references") or []
        return self._by_id[schema_id]

    def references(self, schema_id: int) -> list[dict]:
        self.schema(schema_id)
        return list(self._references.get(schema_id, []))

    def latest(self, subject: str):
        answer = self._call("GET", f"/subjects/{subject}/versions/latest")
        if answer is None:
            return None
        return int(answer["id"]), int(answer["version"]), answer.get("schemaType", "AVRO"), answer["schema"]

    def version(self, subject: str, version: int):
        answer = self._call("GET", f"/subjects/{subject}/versions/{version}")
        if answer is None:
            return None
        return int(answer["id"]), answer.get("schemaType", "AVRO"), answer["schema"]

    def subjects(self) -> list[str]:
        return self._call("GET", "/subjects") or []

    def compatibility(self, subject: str | None = None) -> str:
        answer = self._call("GET", f"/config/{subject}" if subject else "/config") or {}
        return answer.get("compatibilityLevel", "BACKWARD")

    def set_compatibility(self, level: str, subject: str | None = None) -> None:
        self._call("PUT", f"/config/{subject}" if subject else "/config", json={"compatibility": level.upper()})

    def versions(self, subject: str) -> list[int]:
        return self._call("GET", f"/subjects/{subject}/versions") or []


_current: EmbeddedRegistry | RemoteRegistry | None = None


def install(registry) -> None:
    """Make this the registry the formats use (the engine's, when it opens)."""
    global _current
    _current = registry


def current():
    if _current is None:
        raise RegistryError("No schema registry is configured.")
    return _current
