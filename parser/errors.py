"""Errors shown to users. Each carries enough to point at what went wrong."""
from __future__ import annotations

from ksql.parser.scripts import in_script


class KsqlError(Exception):
    """Base of every error the engine reports to a user."""


class KsqlSyntaxError(KsqlError):
    """A statement that does not parse: where, which token, and what was expected."""

    def __init__(self, message: str, line: int, column: int, token: str | None = None,
                 expected: tuple[str, ...] = (), source_line: str = "", source_column: int | None = None,
                 shown_offset: int = 0):
        self.line = line
        self.column = column
        self.token = token
        self.expected = expected
        self.source_line = source_line
        # the token's column in source_line (a statement that starts inside a script's line
        # has its own first line as source_line, but its column counts in the script's)
        self.source_column = column if source_column is None else source_column
        self.reason = message
        # ksqlDB's errors about a literal (raised from its AST, not by its parser) name the
        # column after the token's: its ParsingException adds one to a column counted from one
        self.shown_offset = shown_offset
        super().__init__(f"line {line}:{column + shown_offset}: {message}")

    def within(self, start: tuple[int, int]) -> "KsqlSyntaxError":
        """The same error, positioned in a script where its statement starts at `start`."""
        line, column = in_script((self.line, self.column), start)
        return KsqlSyntaxError(self.reason, line, column, self.token,
                               self.expected, self.source_line, self.source_column, self.shown_offset)

    def pointer(self) -> str:
        """The offending line with a caret under the offending token."""
        if not self.source_line:
            return ""
        return f"{self.source_line}\n{' ' * (self.source_column - 1)}^"


class KsqlStatementError(KsqlError):
    """A statement that parses but cannot run: unknown names, wrong types, conflicts.

    position: (line, column) in the statement, both from 1, of what the error is about (a
    column reference), when known; the engine turns it into ksqlDB's "Line: L, Col: C: "
    prefix, counted in the whole script."""

    def __init__(self, message: str = "", position: tuple[int, int] | None = None):
        super().__init__(message)
        self.position = position


class KsqlPreparationError(KsqlStatementError):
    """A statement that names what is not there, found while it is prepared: a source that
    does not exist, a column that is ambiguous. ksqlDB finds these before planning (its parser
    and AST sanitizer) and says so: "Exception while preparing statement: ..."."""


class KsqlFunctionError(KsqlError):
    """An aggregate function's failure (a DECIMAL sum past its precision, say). It stops the
    query, which restarts from its last commit, as an exception in a Kafka Streams processor
    does in ksqlDB; it is not one bad record the processing log takes."""


class KsqlRecordError(KsqlError):
    """A record that cannot be (de)serialized; goes to the processing log."""
