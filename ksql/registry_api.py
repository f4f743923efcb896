"""Confluent's schema registry REST API, served by `ksql server` over the engine's registry, so
that producers and consumers using Confluent's serializers share schemas with the engine with
no other server (`schema.registry.url` = the ksql server's URL).

Subjects and their versions, schemas by id, lookups, compatibility checks and the
compatibility setting; errors in the registry's own shape ({"error_code", "message"})."""
from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ksql.runtime.log.names import MAX_TOPIC_NAME_LENGTH
from ksql.runtime.formats.schema_registry import RegistryError, backward_incompatibility

_SUBJECT = re.compile(r"[a-zA-Z0-9._-]{1,%d}" % (MAX_TOPIC_NAME_LENGTH + len("-value")))

MEDIA = "application/vnd.schemaregistry.v1+json"


def registry_routes(engine) -> list[Route]:
    api = _RegistryApi(engine)
    return [
        Route("/subjects", api.subjects, methods=["GET"]),
        Route("/subjects/{subject}", api.lookup, methods=["POST"]),
        Route("/subjects/{subject}/versions", api.versions, methods=["GET"]),
        Route("/subjects/{subject}/versions", api.register, methods=["POST"]),
        Route("/subjects/{subject}/versions/{version}", api.version, methods=["GET"]),
        Route("/subjects/{subject}/versions/{version}/schema", api.version_schema, methods=["GET"]),
        Route("/schemas/ids/{id:int}", api.by_id, methods=["GET"]),
        Route("/schemas/ids/{id:int}/schema", api.by_id_schema, methods=["GET"]),
        Route("/schemas/types", api.types, methods=["GET"]),
        Route("/config", api.config, methods=["GET", "PUT"]),
        Route("/config/{subject}", api.config, methods=["GET", "PUT"]),
        Route("/compatibility/subjects/{subject}/versions/{version}", api.compatible, methods=["POST"]),
    ]


def _answer(body, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA)


def _valid_subject(subject: str) -> bool:
    """Subjects the registry takes: a topic's (`<topic>-key`, `<topic>-value`) and record names,
    under Kafka's topic-name rules with room for the suffix."""
    return bool(_SUBJECT.fullmatch(subject)) and subject not in (".", "..")


def _error(code: int, message: str) -> JSONResponse:
    return _answer({"error_code": code, "message": message}, code // 100 if code >= 1000 else code)


class _RegistryApi:
    def __init__(self, engine):
        self.engine = engine

    @property
    def registry(self):
        return self.engine.schema_registry

    async def _schema_body(self, request: Request) -> tuple[str, str, list] | JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(42201, "Invalid JSON in the request body")
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            return _error(42201, "The request must have a 'schema' string")
        schema_type = str(body.get("schemaType") or "AVRO").upper()
        if schema_type == "AVRO" and not body.get("references"):
            import fastavro

            try:
                fastavro.parse_schema(json.loads(body["schema"]))
            except Exception as error:  # noqa: BLE001 - any parse failure is an invalid schema
                return _error(42201, f"Invalid schema: {error}")
        references = body.get("references") or []
        if not isinstance(references, list) or not all(
                isinstance(r, dict) and {"name", "subject", "version"} <= set(r) for r in references):
            return _error(42201, "'references' must be a list of {name, subject, version}")
        return body["schema"], schema_type, references

    def _version(self, subject: str, version: str):
        """(id, version, type, schema) of a subject's version ('latest' or a number), or an error."""
        if subject not in self.registry.subjects():
            return _error(40401, f"Subject '{subject}' not found.")
        if version == "latest" or version == "-1":
            return self.registry.latest(subject)
        if not version.isdigit():
            return _error(42202, f"The specified version '{version}' is not a valid version id.")
        found = self.registry.version(subject, int(version))
        if found is None:
            return _error(40402, f"Version {version} not found.")
        return found[0], int(version), found[1], found[2]

    def _entry(self, subject, schema_id, version, schema_type, schema) -> dict:
        entry = {"subject": subject, "version": version, "id": schema_id, "schema": schema}
        if schema_type != "AVRO":
            entry["schemaType"] = schema_type
        references = self.registry.references(schema_id)
        if references:
            entry["references"] = references
        return entry

    async def subjects(self, request: Request):
        return _answer(self.registry.subjects())

    async def versions(self, request: Request):
        subject = request.path_params["subject"]
        versions = self.registry.versions(subject)
        return _answer(versions) if versions else _error(40401, f"Subject '{subject}' not found.")

    async def register(self, request: Request):
        subject = request.path_params["subject"]
        if not _valid_subject(subject):
            return _error(42208, f"The specified subject '{subject[:300]}' is not a valid.")
        given = await self._schema_body(request)
        if isinstance(given, JSONResponse):
            return given
        try:
            schema_id = self.registry.register(request.path_params["subject"], given[0], given[1],
                                               references=given[2] or None)
        except RegistryError as error:
            return _error(409 if error.status == 409 else 42201, str(error))
        return _answer({"id": schema_id})

    async def lookup(self, request: Request):
        subject = request.path_params["subject"]
        given = await self._schema_body(request)
        if isinstance(given, JSONResponse):
            return given
        if subject not in self.registry.subjects():
            return _error(40401, f"Subject '{subject}' not found.")
        for version in self.registry.versions(subject):
            schema_id, schema_type, schema = self.registry.version(subject, version)
            if schema_type == given[1] and _same(schema, given[0]):
                return _answer(self._entry(subject, schema_id, version, schema_type, schema))
        return _error(40403, "Schema not found")

    async def version(self, request: Request):
        subject = request.path_params["subject"]
        found = self._version(subject, request.path_params["version"])
        return found if isinstance(found, JSONResponse) else _answer(self._entry(subject, *found))

    async def version_schema(self, request: Request):
        found = self._version(request.path_params["subject"], request.path_params["version"])
        return found if isinstance(found, JSONResponse) else _answer(json.loads(found[3]))

    async def by_id(self, request: Request):
        try:
            schema_type, schema = self.registry.schema(request.path_params["id"])
        except RegistryError:
            return _error(40403, "Schema not found")
        references = self.registry.references(request.path_params["id"])
        return _answer({"schema": schema, **({"schemaType": schema_type} if schema_type != "AVRO" else {}),
                        **({"references": references} if references else {})})

    async def by_id_schema(self, request: Request):
        try:
            _, schema = self.registry.schema(request.path_params["id"])
        except RegistryError:
            return _error(40403, "Schema not found")
        return _answer(json.loads(schema))

    async def types(self, request: Request):
        return _answer(["AVRO"])

    async def config(self, request: Request):
        subject = request.path_params.get("subject")
        if request.method == "PUT":
            try:
                level = json.loads(await request.body() or b"{}").get("compatibility", "")
                self.registry.set_compatibility(str(level), subject)
            except (ValueError, AttributeError):
                return _error(42203, "Invalid compatibility level")
            except RegistryError as error:
                return _error(42203, str(error))
            return _answer({"compatibility": str(level).upper()})
        return _answer({"compatibilityLevel": self.registry.compatibility(subject)})

    async def compatible(self, request: Request):
        subject = request.path_params["subject"]
        given = await self._schema_body(request)
        if isinstance(given, JSONResponse):
            return given
        found = self._version(subject, request.path_params["version"])
        if isinstance(found, JSONResponse):
            return found
        reason = backward_incompatibility(json.loads(given[0]), json.loads(found[3])) if given[1] == "AVRO" else None
        return _answer({"is_compatible": reason is None, **({"messages": [reason]} if reason else {})})


def _same(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return a == b
