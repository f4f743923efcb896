"""The interactive shell: multi-line statements ending in ';', history, completion,
highlighting, tables, and push queries that Ctrl-C stops."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.lexers import PygmentsLexer
from pygments.lexers.sql import SqlLexer

from ksql import __version__
from ksql.parser import is_complete, keywords
from ksql.planner.functions import FUNCTIONS

LOCAL_COMMANDS = ("help", "exit", "quit", "clear", "version")

HELP = """Statements end with ';' and may span lines. For example:
  SHOW STREAMS;  SHOW TOPICS;  SHOW QUERIES;  DESCRIBE <name>;
  CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
  SELECT * FROM s EMIT CHANGES;     (Ctrl-C stops it)
Local commands (no ';' needed): help, clear, version, exit."""


class _Completer(Completer):
    """Keywords, stream/table names, column names and function names."""

    def __init__(self, engine):
        self.engine = engine

    def get_completions(self, document, complete_event):
        word = document.get_word_before_cursor(WORD=False)
        if not word:
            return
        upper = word.upper()
        names = set(keywords()) | set(FUNCTIONS)
        for source in self.engine.metastore.sources():
            names.add(source.name)
            names.update(c.name for c in source.schema.columns)
        for name in sorted(names):
            if name.startswith(upper) and name != upper:
                yield Completion(name, start_position=-len(word))


class Repl:
    def __init__(self, engine, location: str, output: str = "TABULAR", remote: bool = False):
        self.engine = engine
        self.location = location
        self.remote = remote
        self.output = output
        history_path = Path(os.environ.get("KSQL_HISTORY", Path.home() / ".ksql_history"))
        try:
            history = FileHistory(str(history_path))
        except OSError:
            history = InMemoryHistory()
        self.session = PromptSession(history=history, lexer=PygmentsLexer(SqlLexer),
                                     completer=_Completer(engine), complete_while_typing=False)

    def banner(self) -> str:
        where = f"Server: {self.location}" if self.remote else \
            f"Embedded engine, data in {os.path.abspath(self.location)}"
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
                return 0
            if not buffer and line.strip().lower().rstrip(";") in LOCAL_COMMANDS:
                if self._local(line.strip().lower().rstrip(";")):
                    return 0
                continue
            buffer = f"{buffer}\n{line}" if buffer else line
            if not buffer.strip():
                buffer = ""
                continue
            if is_complete(buffer):
                self.execute(buffer)
                buffer = ""

    def _local(self, command: str) -> bool:
        if command in ("exit", "quit"):
            return True
        if command == "help":
            print(HELP)
        elif command == "clear":
            print("\033[2J\033[H", end="")
        elif command == "version":
            print(f"Version: {__version__}")
        return False

    def execute(self, text: str) -> None:
        from ksql.cli import run_script

        try:
            run_script(self.engine, text, "<input>", sys.stdout, sys.stdout, self.output)
        except KeyboardInterrupt:
            print("Query terminated")
