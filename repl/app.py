"""The interactive shell: multi-line statements ending in ';', history, completion,
KSQL highlighting, tables fitted to the terminal, push queries that Ctrl-C stops, and the
CLI commands of ksqlDB's shell (help, clear, history, output, server, spool, version, exit)."""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.lexers import PygmentsLexer
from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from ksql import __version__
from ksql.parser import is_complete, keywords
from ksql.parser.lark_grammar import expected_next
from ksql.repl.script import COMMANDS, run_script
from ksql.planner.library import FUNCTIONS


HELP = """Statements end with ';' and may span lines. For example:
  SHOW STREAMS;  SHOW TABLES;  SHOW QUERIES;  DESCRIBE <name>;
  CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
  SELECT * FROM s EMIT CHANGES;        a push query: Ctrl-C stops it
  SELECT * FROM t WHERE id = 1;        a pull query on a table
  SET 'auto.offset.reset'='earliest';  DEFINE name = 'value';  RUN SCRIPT 'file.sql';

Shell commands (no ';' needed):
  help                 this text
  clear                clear the screen
  history [N]          the last N statements (all without N)
  output [TABULAR|JSON]  show or change how results are printed
  server [URL]         show the server, or connect to another one
  spool FILE | OFF     also write everything shown to FILE, or stop
  version              the shell's version
  request-pipelining [ON|OFF]  show or change whether statements are sent before the last one
                       answered (accepted for ksqlDB scripts; each statement waits here)
  exit, quit, Ctrl-D   leave"""

# Properties users set most, offered after SET '
PROPERTY_NAMES = ("auto.offset.reset", "ksql.query.pull.table.scan.enabled", "ksql.query.pull.limit.clause.enabled",
                  "ksql.state.max.entries", "ksql.persistence.default.format.key",
                  "ksql.persistence.default.format.value", "ksql.service.id", "processing.guarantee",
                  "ksql.streams.auto.offset.reset")


def ksql_lexer() -> type[RegexLexer]:
    """A pygments lexer for KSQL: its keywords come from the grammar, its functions from the
    function registry."""
    class KsqlLexer(RegexLexer):
        name = "KSQL"
        flags = 2  # re.IGNORECASE
        tokens = {"root": [
            (r"\s+", Text),
            (r"--.*?$", Comment.Single),
            (r"/\*[\s\S]*?\*/", Comment.Multiline),
            (r"'(''|[^'])*'", String.Single),
            (r"`[^`]*`", Name.Quoted),
            (r"\d+(\.\d*)?([eE][+-]?\d+)?", Number),
            (words(tuple(sorted(FUNCTIONS, key=len, reverse=True)), suffix=r"(?=\s*\()"), Name.Function),
            (words(tuple(sorted(keywords(), key=len, reverse=True)), suffix=r"\b"), Keyword),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"->|:=|=>|<>|!=|<=|>=|\|\||[-+*/%<>=]", Operator),
            (r"[(),;.\[\]{}]", Punctuation),
        ]}
    return KsqlLexer


_SETTING = re.compile(r"\b(?:UN)?SET\s+'([^']*)$", re.IGNORECASE)  # a property name being typed


_ALIAS_DOT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z0-9_]*$")
_SOURCE_BEFORE = ("FROM", "JOIN", "INTO")
_SOURCE_WITH_ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(?:AS\s+)?([A-Za-z_][A-Za-z0-9_]*))?",
                                re.IGNORECASE)


def _aliases(statement: str, sources) -> dict:
    """The sources a statement reads, by name and by alias."""
    by_name = {s.name: s for s in sources}
    found = {}
    for match in _SOURCE_WITH_ALIAS.finditer(statement):
        source = by_name.get(match.group(1).upper())
        if source is not None:
            found[source.name] = source
            if match.group(2) and match.group(2).upper() not in keywords():
                found[match.group(2).upper()] = source
    return found


class _Completer(Completer):
    """Keywords, stream/table names, column names, function names, and property names after
    SET '."""

    def __init__(self, shell: "Repl"):
        self.shell = shell

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        setting = _SETTING.search(before)
        if setting:
            typed = setting.group(1)
            for name in PROPERTY_NAMES:
                if name.startswith(typed):
                    yield Completion(name, start_position=-len(typed))
            return
        word = document.get_word_before_cursor(WORD=False)
        if not word or not (word[-1].isalnum() or word[-1] == "_"):
            return
        upper = word.upper()
        for name in sorted(self._candidates(before[:len(before) - len(word)])):
            if name.upper().startswith(upper) and name.upper() != upper:
                yield Completion(name, start_position=-len(word))

    def _candidates(self, before: str) -> set[str]:
        """What may come at the cursor: what the grammar accepts there (after SHOW only what
        SHOW takes), names where a name fits: sources after FROM, JOIN, INTO, DESCRIBE and DROP,
        a source's columns after its alias and a dot, else columns and functions."""
        statement = before[before.rfind(";") + 1:]
        sources = self.shell.engine.metastore.sources()
        alias = _ALIAS_DOT.search(statement)
        if alias:
            source = _aliases(statement, sources).get(alias.group(1).upper())
            return {c.name for c in source.schema.columns} if source else set()
        expected = expected_next(statement)
        if expected is None:  # the statement already does not parse: offer every word
            names = set(keywords()) | set(FUNCTIONS)
            for source in sources:
                names.add(source.name)
                names.update(c.name for c in source.schema.columns)
            return names
        words, name_fits = expected
        names = set(words)
        if not statement.strip():
            names |= {c for c in COMMANDS}
        if name_fits:
            last = (statement.split() or [""])[-1].upper()
            if last in _SOURCE_BEFORE or statement.strip().upper().startswith(("DROP", "DESCRIBE", "PRINT")) \
                    and last in ("STREAM", "TABLE", "EXISTS", "DESCRIBE", "EXTENDED", "PRINT"):
                names |= {s.name for s in sources if not s.is_internal or last == "FROM"}
            else:
                used = _aliases(statement, sources).values() or sources
                names |= {c.name for source in used for c in source.schema.columns} | set(FUNCTIONS)
        return names


class _Tee:
    """The shell's output: the terminal, and the spool file while one is open."""

    def __init__(self, terminal):
        self.terminal = terminal
        self.spool = None

    def write(self, text: str) -> int:
        self.terminal.write(text)
        if self.spool is not None:
            self.spool.write(text)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()
        if self.spool is not None:
            self.spool.flush()


class Repl:
    def __init__(self, engine, location: str, output: str = "TABULAR", remote: bool = False,
                 connect=None):
        self.engine = engine
        self.location = location
        self.remote = remote
        self.output = output
        self.pipelining = False  # ksqlDB's request-pipelining setting (kept for scripts that set it)
        self.connect = connect  # URL -> engine, for the `server URL` command
        self.out = _Tee(sys.stdout)
        history_path = Path(os.environ.get("KSQL_HISTORY", Path.home() / ".ksql_history"))
        try:
            history = FileHistory(str(history_path))
        except OSError:
            history = InMemoryHistory()
        self.history = history
        self.session = PromptSession(history=history, lexer=PygmentsLexer(ksql_lexer()),
                                     completer=_Completer(self), complete_while_typing=False)

    def banner(self) -> str:
        kafka = getattr(getattr(self.engine, "log", None), "config", {}).get("bootstrap.servers")
        if self.remote:
            where = f"Server: {self.location}"
        elif kafka:
            where = f"Engine on the Kafka cluster at {kafka}, state in {os.path.abspath(self.location)}"
        else:
            where = f"Embedded engine, data in {os.path.abspath(self.location)}"
        return (f"ksql {__version__} - streaming SQL\n"
                f"{where}\n"
                f"Type 'help' for help, 'exit' or Ctrl-D to leave.\n")

    def run(self) -> int:
        print(self.banner())
        buffer = ""
        while True:
            try:
                line = self.session.prompt("ksql> " if not buffer else "   > ")
            except KeyboardInterrupt:
                buffer = ""
                continue
            except EOFError:
                print("Exiting ksql.")
                self._spool_off()
                return 0
            if not buffer and line.strip() and line.split()[0].lower().rstrip(";") in COMMANDS:
                if self.command(line.strip().rstrip(";").strip()):
                    self._spool_off()
                    return 0
                continue
            buffer = f"{buffer}\n{line}" if buffer else line
            if not buffer.strip():
                buffer = ""
                continue
            if is_complete(buffer):
                self.execute(buffer)
                buffer = ""

    # ---------------------------------------------------------------- shell commands

    def command(self, text: str) -> bool:
        """Run a shell command; True when the shell should end."""
        name, _, argument = text.partition(" ")
        name, argument = name.lower(), argument.strip()
        if name in ("exit", "quit"):
            return True
        if name == "help":
            self._print(HELP)
        elif name == "clear":
            print("\033[2J\033[H", end="", flush=True)
        elif name == "version":
            self._print(f"Version: {__version__}")
        elif name == "history":
            entries = list(self.history.load_history_strings())[::-1]  # oldest first
            if argument.isdigit():
                entries = entries[-int(argument):]
            for number, entry in enumerate(entries, start=1):
                self._print(f"{number:5}  {entry}")
        elif name == "output":
            self._output(argument)
        elif name == "server":
            self._server(argument)
        elif name == "spool":
            self._spool(argument)
        elif name == "request-pipelining":
            if not argument:
                self._print(f"Current setting: {'ON' if self.pipelining else 'OFF'}")
            elif argument.upper() in ("ON", "OFF"):
                self.pipelining = argument.upper() == "ON"
            else:
                self._print(f"Invalid value '{argument}': use ON or OFF.")
        elif name == "request-timeout":
            self._print("Requests wait for their answer here; request-timeout is accepted and has no effect.")
        return False

    def _output(self, argument: str) -> None:
        if not argument:
            self._print(f"Output format: {self.output}")
        elif argument.upper() in ("TABULAR", "JSON"):
            self.output = argument.upper()
            self._print(f"Output format set to {self.output}")
        else:
            self._print(f"Unknown output format '{argument}': use TABULAR or JSON.")

    def _server(self, argument: str) -> None:
        if not argument:
            self._print(f"Server: {self.location}" if self.remote else
                        "Not connected to a server: statements run on the embedded engine.")
            return
        if self.connect is None:
            self._print("This shell cannot switch servers.")
            return
        try:
            engine = self.connect(argument)
        except Exception as error:  # noqa: BLE001 - any connection failure gets one clear line
            self._print(f"Could not connect to {argument}: {error}")
            return
        self.engine.close()
        self.engine, self.location, self.remote = engine, argument, True
        self._print(f"Server: {argument}")

    def _spool(self, argument: str) -> None:
        if not argument:
            self._print("Spooling to " + self.out.spool.name if self.out.spool else "Not spooling.")
        elif argument.upper() == "OFF":
            if self.out.spool is None:
                self._print("Not spooling.")
            else:
                name = self.out.spool.name
                self._spool_off()
                self._print(f"Stopped spooling to {name}")
        else:
            path = argument.strip("'\"")
            try:
                spool = open(path, "a", encoding="utf-8")
            except OSError as error:
                self._print(f"Cannot spool to {path}: {error.strerror}")
                return
            self._spool_off()
            self.out.spool = spool
            self._print(f"Spooling to {path}")

    def _spool_off(self) -> None:
        if self.out.spool is not None:
            self.out.spool.close()
            self.out.spool = None

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # ---------------------------------------------------------------- statements

    def execute(self, text: str) -> None:
        if self.out.spool is not None:
            self.out.spool.write(f"ksql> {text}\n")
        width = shutil.get_terminal_size((120, 24)).columns
        try:
            run_script(self.engine, text, "<input>", self.out, self.out, self.output, width=width,
                       interactive=True)
        except KeyboardInterrupt:
            self._print("Query terminated")
        except Exception as error:  # noqa: BLE001 - the shell reports any failure and goes on
            if self.remote and _is_connection_error(error):
                self._print(f"Could not reach the server at {self.location}: {error}. "
                            f"The next statement will try again.")
            else:
                self._print(f"Error: {error}")


def _is_connection_error(error: Exception) -> bool:
    try:
        import httpx
    except ImportError:
        return False
    return isinstance(error, (httpx.TransportError, ConnectionError))
