"""Sessions (SET properties, DEFINEd variables) and the statements that change them or the
system: SET, UNSET, DEFINE, UNDEFINE, ALTER SYSTEM, RUN SCRIPT."""
from __future__ import annotations

from dataclasses import dataclass, field


from ksql.errors import KsqlError, KsqlStatementError
from ksql.parser import (ast, define_variable, undefine_variable)
from ksql.results import StatusResult


DEFAULT_PROPERTIES = {
    "auto.offset.reset": "latest",
    "ksql.service.id": "default_",
    "ksql.persistence.default.format.key": "KAFKA",
}


_OFFSET_RESET_KEYS = ("auto.offset.reset", "ksql.streams.auto.offset.reset")

# where ksqlDB's CLI puts the text of the file a RUN SCRIPT statement names
RUN_SCRIPT_CONTENT = "ksql.run.script.statements"


def _refuse_queries(script: str) -> None:
    """A script runs as statements do over /ksql, where queries are refused; all of it is
    checked before any statement runs (as ksqlDB validates a request first)."""
    from ksql.parser import parse_script

    for _, statement in parse_script(script):
        if isinstance(statement, (ast.QueryStatement, ast.Print)):
            raise KsqlStatementError("The following statement types should be issued to the websocket endpoint "
                                     "'/query':\n\t* PRINT\n\t* SELECT")


@dataclass
class Session:
    """Per-client state: SET properties and DEFINEd variables. A server's sessions are
    `remote`: their statements never read this machine's files (RUN SCRIPT)."""

    properties: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    remote: bool = False

    def offset_reset(self, defaults: dict) -> str:
        for key in _OFFSET_RESET_KEYS:
            if key in self.properties:
                return str(self.properties[key]).lower()
        return str(defaults.get("auto.offset.reset", "latest")).lower()


class StatementFailed(KsqlError):
    """A statement of a script failed; carries its position in the script."""

    def __init__(self, error: KsqlError, statement: str, line: int, column: int):
        self.error = error
        self.statement = statement
        self.line = line
        self.column = column
        super().__init__(str(error))


class SessionStatements:
    """The session and system statements, as part of KsqlEngine (a mixin)."""

    def _exec_SetProperty(self, stmt: ast.SetProperty, text: str, session: Session):
        if stmt.name in _OFFSET_RESET_KEYS and stmt.value.lower() not in ("earliest", "latest", "none"):
            raise KsqlStatementError(
                f"Invalid value {stmt.value} for configuration auto.offset.reset: "
                f"String must be one of: latest, earliest, none")
        session.properties[stmt.name] = stmt.value
        return StatusResult(text, f"Successfully changed local property '{stmt.name}' to '{stmt.value}'.")

    def _exec_UnsetProperty(self, stmt: ast.UnsetProperty, text: str, session: Session):
        session.properties.pop(stmt.name, None)
        return StatusResult(text, f"Successfully unset local property '{stmt.name}'.")

    def _exec_DefineVariable(self, stmt: ast.DefineVariable, text: str, session: Session):
        define_variable(session.variables, stmt.name, stmt.value)
        return StatusResult(text, f"Defined variable {stmt.name}.")

    def _exec_UndefineVariable(self, stmt: ast.UndefineVariable, text: str, session: Session):
        if not undefine_variable(session.variables, stmt.name):
            return StatusResult(text, f"Variable '{stmt.name}' is not defined.")
        return StatusResult(text, f"Undefined variable {stmt.name}.")

    def _exec_AlterSystem(self, stmt: ast.AlterSystem, text: str, session: Session):
        raise KsqlStatementError("ALTER SYSTEM is not supported: set server properties in the "
                                 "configuration file, or per session with SET.")

    def _exec_RunScript(self, stmt: ast.RunScript, text: str, session: Session):
        if session.remote:
            # a server never reads its own files: ksqlDB's CLI reads the script and sends its text
            # with the statement, in the property RUN_SCRIPT_CONTENT
            script = session.properties.pop(RUN_SCRIPT_CONTENT, None)
            if script is None:
                raise KsqlStatementError("Request is missing script content")
        else:
            try:
                with open(stmt.path, encoding="utf-8") as f:
                    script = f.read()
            except OSError as error:
                raise KsqlStatementError(f"Failed to read script file {stmt.path}: {error.strerror}") from None
        _refuse_queries(script)
        results = self.execute(script, session)
        return results[-1] if results else StatusResult(text, "Script ran: no statements.")
