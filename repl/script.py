"""Running statements as a script: each one's result printed as it comes, the first error
with its place in the script (`ksql run`, `-e`, piped input, and every statement the shell runs)."""
from __future__ import annotations

from typing import TextIO

from ksql.errors import KsqlError, KsqlSyntaxError
from ksql.repl.render import StatusLine

# the shell's own commands (no ';'), in the shell and in input piped into it
COMMANDS = ("help", "clear", "history", "output", "server", "spool", "version", "request-pipelining",
            "request-timeout", "exit", "quit")


def without_shell_commands(text: str) -> str:
    """Input piped into the shell (`echo exit | ksql`): its shell commands are not SQL. `exit`
    or `quit` ends the input there; the others are left out (as blank lines, so that errors
    keep their line numbers)."""
    from ksql.parser import is_complete

    kept, pending = [], ""
    for line in text.splitlines():
        words = line.split()
        if not pending.strip() and words and words[0].lower().rstrip(";") in COMMANDS:
            if words[0].lower().rstrip(";") in ("exit", "quit"):
                break
            kept.append("")
            continue
        kept.append(line)
        pending = "" if is_complete(f"{pending}\n{line}") else f"{pending}\n{line}"
    return "\n".join(kept) + "\n"


PROGRESS_FROM = 50  # statements in a script from which its progress is shown


class _Progress(StatusLine):
    """While a long script runs: "1,234 of 5,000 statements, 850/s" (scripts of
    PROGRESS_FROM statements and more)."""

    def __init__(self, err: TextIO, total: int):
        super().__init__(err, wanted=total >= PROGRESS_FROM, wait_first=True)
        self.total = total

    def show(self, number: int) -> None:
        self.draw(lambda seconds: f"\r\033[K{number - 1:,} of {self.total:,} statements, "
                                  f"{(number - 1) / max(seconds, 1e-9):,.0f}/s")

    clear = StatusLine.wipe


def run_script(engine, text: str, name: str, out: TextIO, err: TextIO, output: str = "TABULAR",
               width: int | None = None, interactive: bool = False) -> int:
    """Run statements one at a time, printing each result (tables narrowed to `width`);
    1 at the first error, else 0."""
    from ksql.engine import StatementFailed
    from ksql.parser import split_statements, substitute_variables
    from ksql.repl.render import render, stream_rows
    from ksql.results import RowStream

    pieces = split_statements(text)
    progress = _Progress(err, len(pieces))
    for number, piece in enumerate(pieces, start=1):
        progress.show(number)
        try:
            results = engine.execute(piece.text, at=(piece.line, piece.column))
        except StatementFailed as failure:
            progress.clear()
            error = failure.error
            message = error.reason if isinstance(error, KsqlSyntaxError) else str(error)
            # (the file's line and column say where already)
            message = message.replace(f"Line: {failure.line}, Col: {failure.column}: ", "", 1)
            err.write(f"{name}:{failure.line}:{failure.column}: {message}\n")
            if isinstance(error, KsqlSyntaxError) and error.pointer():
                err.write(error.pointer() + "\n")
            else:
                err.write(f"Statement: {substitute_variables(piece.text, engine.session.variables)}\n")
            return 1
        except KsqlError as error:
            progress.clear()
            err.write(f"{name}:{piece.line}:{piece.column}: {error}\n")
            return 1
        if results:
            progress.clear()
        for result in results:
            if isinstance(result, RowStream):
                try:
                    stream_rows(result, out, output, width, hint=interactive)
                except KeyboardInterrupt:
                    pass
                finally:
                    result.close()
            else:
                render(result, out, output, width)
    progress.clear()
    return 0
