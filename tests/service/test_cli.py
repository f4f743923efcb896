"""The `ksql` command as users run it: scripts, -e, and the interactive shell in a terminal."""
from __future__ import annotations

import io
import re
import subprocess
import time

import pytest

from processes import KSQL, Terminal


def run(args, tmp_path, stdin=None):
    return subprocess.run(KSQL + args, cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("text, error", [
    ("SHOW STREAMS;\n\nCREATE STREAM s (id INT KEY) WITH (kafka_topic='s',\n  value_format='JSON' partitions=1);\n",
     "4:23: Syntax Error at or near 'partitions'; expected ',', ')'"),
    # a column that cannot be resolved: where the column is, not where its statement starts
    ("CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);\n"
     "CREATE STREAM out AS SELECT id,\n  nope + 1 AS n FROM s;\n", "3:3: SELECT column 'NOPE' cannot be resolved.\n"),
    # a statement that starts inside a line: the caret under the token of its own text
    ("SHOW STREAMS; SELECT * FROM;\n",
     "1:28: Syntax Error at or near ';'; expected an identifier\nSELECT * FROM;\n             ^\n"),
], ids=["syntax", "column", "second-on-its-line"])
def test_run_script_stops_at_first_error_with_position(tmp_path, text, error):
    script = tmp_path / "bad.sql"
    script.write_text(text + "SHOW TOPICS;\n")
    result = run(["run", str(script)], tmp_path)
    assert result.returncode == 1
    assert f"{script}:{error}" in result.stderr
    assert "Partitions" not in result.stdout  # nothing after the failing statement ran


def test_run_script_success(tmp_path, backend):
    script = tmp_path / "ok.sql"
    script.write_text("SET 'auto.offset.reset'='earliest';\n"
                      "CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', "
                      "partitions=1);\nSHOW STREAMS;\nINSERT INTO s (id, v) VALUES (1, 'a');\n"
                      "CREATE TABLE t AS SELECT id, COUNT(*) AS n FROM s GROUP BY id;\nSELECT * FROM t;\n")
    where = ["--bootstrap-servers", backend["bootstrap.servers"]] if backend else []
    result = run(["run", *where, str(script)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert " S                   | s " in result.stdout
    assert "| 1        | 1        |" in result.stdout


def test_execute_option_and_unknown_source(tmp_path):
    result = run(["--data-dir", "d", "-e", "SELECT * FROM missing;"], tmp_path)
    assert result.returncode == 1
    assert "<command line>:1:1: Exception while preparing statement: MISSING does not exist." in result.stderr


def test_piped_input_takes_shell_commands(tmp_path):
    """`echo exit | ksql`: shell commands are not SQL; exit ends the input; errors keep their
    line numbers."""
    assert run(["--data-dir", "d"], tmp_path, stdin="exit\n").returncode == 0
    result = run(["--data-dir", "d"], tmp_path, stdin="SHOW STREAMS;\nversion\nrequest-pipelining ON\n"
                                                       "SELEC 1;\nexit\nSHOW TOPICS;\n")
    assert result.returncode == 1 and "KSQL_PROCESSING_LOG" in result.stdout
    assert result.stderr.startswith("<stdin>:4:1: Syntax Error at or near 'SELEC'")
    quit_early = run(["--data-dir", "d"], tmp_path, stdin="SHOW STREAMS;\nquit\nSELEC 1;\n")
    assert quit_early.returncode == 0 and quit_early.stderr == ""


def test_missing_script_file(tmp_path):
    result = run(["run", "nope.sql"], tmp_path)
    assert result.returncode == 2
    assert "cannot read nope.sql" in result.stderr


def test_second_process_on_same_data_dir_is_refused(tmp_path):
    from ksql.engine import KsqlEngine

    engine = KsqlEngine(str(tmp_path / "d"))
    try:
        result = run(["--data-dir", "d", "-e", "SHOW STREAMS;"], tmp_path)
        assert result.returncode != 0
        assert "in use by another ksql process" in result.stderr
    finally:
        engine.close()


def test_repl_multiline_statement_push_query_and_ctrl_c(tmp_path):
    term = Terminal(["--data-dir", "data"], tmp_path)
    term.expect("ksql>")
    term.send("CREATE STREAM s (id INT KEY, v STRING)\r")
    term.expect("   >")
    term.send("  WITH (kafka_topic='s', value_format='JSON', partitions=1);\r")
    term.expect("Stream created")
    term.send("INSERT INTO s (id, v) VALUES (1, 'hello');\r")
    term.expect("Inserted")
    term.send("SET 'auto.offset.reset'='earliest';\r")
    term.expect("Successfully changed")
    term.mark()
    term.send("SELECT * FROM s EMIT CHANGES;\r")
    term.expect("hello")
    term.mark()  # (the prompt before the query may come after the earlier mark)
    term.send("\x03")  # Ctrl-C stops the push query and returns to the prompt
    term.expect("ksql>")
    term.mark()
    term.send("SHOW STREAMS;\r")
    term.expect(" S ")
    term.send("exit\r")
    assert term.close() == 0


def test_repl_completion_shell_commands_spool_and_errors(tmp_path):
    term = Terminal(["--data-dir", "data"], tmp_path)
    term.expect("ksql>")
    term.send("CREATE STREAM clicks (id INT KEY, url STRING) WITH (kafka_topic='clicks', value_format='JSON', "
              "partitions=1);\r")
    term.expect("Stream created")
    term.send("spool out.txt\r")
    term.expect("Spooling to out.txt")
    term.mark()
    term.send("DESCRIBE cli\t")  # Tab completes the stream's name
    term.expect("CLICKS")
    term.send(";\r")
    term.expect("URL")
    term.send("INSERT INTO clicks (id, url) VALUES (1, 'https://example.com/a/very/long/path');\r")
    term.expect("Inserted")
    term.mark()
    term.send("SET 'auto.off")  # and property names after SET ' (Tab once the shell has the text:
    term.expect("SET 'auto.off")  # a key typed ahead while it still prints can be read by the last prompt)
    term.send("\t")
    # The screen may show only the part of the line that changed (when the Tab and the text came
    # together); what the line became is read from the shell's answer.
    term.expect("set.reset")  # (keys typed before the completion is drawn would cancel it)
    term.send("'='earliest';\r")
    term.expect("Successfully changed local property 'auto.offset.reset' to 'earliest'")
    term.mark()
    term.send("SELECT * FROM clicks EMIT CHANGES;\r")
    term.expect("Press CTRL-C to interrupt")
    term.expect("example.com")
    time.sleep(1)  # a push query that ran a while ends with how many rows came, and how fast
    term.send("\x03")
    term.expect("1 rows in ")
    term.expect("ksql>")
    term.mark()
    term.send("SELECT nope FROM clicks EMIT CHANGES;\r")  # an error is one message, no traceback
    term.expect("cannot be resolved")
    term.expect("ksql>")
    assert "Traceback" not in term.screen
    term.send("output JSON\r")
    term.expect("Output format set to JSON")
    term.send("SHOW STREAMS;\r")
    term.expect('"@type": "streams"')
    term.send("history 2\r")
    term.expect("SHOW STREAMS;")
    term.send("spool off\r")
    term.expect("Stopped spooling to out.txt")
    term.send("exit\r")
    assert term.close() == 0
    spooled = (tmp_path / "out.txt").read_text()
    assert "ksql> DESCRIBE CLICKS;" in spooled and "example.com" in spooled and '"@type": "streams"' in spooled


def test_tables_fit_the_terminal_width_and_wrap_what_is_wider():
    """As ksqlDB's CLI: a value wider than its column goes on over more lines of its cell
    (nothing cut off), and the columns stay in line, on a terminal or not."""
    from ksql.repl.render import RowPrinter, table

    listing = table(["Name", "Description"], [["clicks", "x" * 60]], width=40)
    assert listing.splitlines() == [
        " Name   | Description                ",
        "-------------------------------------",
        " clicks | xxxxxxxxxxxxxxxxxxxxxxxxxx ",
        "        | xxxxxxxxxxxxxxxxxxxxxxxxxx ",
        "        | xxxxxxxx                   ",
        "-------------------------------------",
    ]
    out = io.StringIO()
    printer = RowPrinter(["ID", "URL"], out, width=41)  # rows to come share the width
    printer.header()
    printer.row([1, "https://example.com/" + "p" * 20])
    printer.row([17961561242, "x"])
    assert out.getvalue().splitlines() == [
        "+------------------+------------------+",
        "| ID               | URL              |",
        "+------------------+------------------+",
        "| 1                | https://example. |",
        "|                  | com/pppppppppppp |",
        "|                  | pppppppp         |",
        "| 17961561242      | x                |",
    ]
    piped = io.StringIO()  # no terminal: the header's widths, values wrapped to them
    printer = RowPrinter(["ID", "V"], piped)
    printer.header()
    printer.row([1796156124212, "a"])
    assert piped.getvalue().splitlines()[3:] == ["| 17961561 | a        |", "| 24212    |          |"]


def test_completion_knows_where_in_the_statement_it_is(tmp_path):
    """Tab offers what the grammar takes at the cursor: after SHOW only what SHOW takes, after
    FROM the sources, after a source's alias and a dot its columns."""
    from types import SimpleNamespace

    from prompt_toolkit.document import Document

    from ksql.engine import KsqlEngine
    from ksql.repl.app import _Completer

    engine = KsqlEngine(str(tmp_path / "d"), background=False)
    try:
        engine.execute("CREATE STREAM pageviews (id INT KEY, page STRING, viewtime BIGINT) WITH "
                       "(kafka_topic='pv', value_format='JSON', partitions=1);"
                       "CREATE TABLE pages (page STRING PRIMARY KEY, title STRING) WITH "
                       "(kafka_topic='pages', value_format='JSON', partitions=1);")
        completer = _Completer(SimpleNamespace(engine=engine))

        def offered(text):
            return [c.text for c in completer.get_completions(Document(text), None)]

        assert offered("SHOW STR") == ["STREAMS"]
        assert offered("show t") == ["TABLES", "TOPICS", "TYPES"]
        assert offered("SELECT * FROM pa") == ["PAGES", "PAGEVIEWS"]
        assert offered("SELECT * FROM pageviews v JOIN pages p ON v.pa") == ["PAGE"]
        assert offered("SELECT * FROM pageviews v JOIN pages p ON p.t") == ["TITLE"]
        assert offered("SELECT * FROM pageviews WH") == ["WHERE"]
        assert "VIEWTIME" in offered("SELECT vi") and "STRUCT" not in offered("SHOW ST")
        assert offered("DESCRIBE pagev") == ["PAGEVIEWS"]
    finally:
        engine.close()


def test_a_long_script_shows_its_progress_on_a_terminal(tmp_path):
    """`ksql run` with thousands of statements: a progress line on the terminal (wiped before
    other output), nothing when the output is piped."""
    from ksql.repl.script import _Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    terminal = Tty()
    progress = _Progress(terminal, 5000)
    progress.drawn -= 1  # (as if the last drawing were a second ago)
    progress.show(1201)
    assert re.fullmatch(r"\r\x1b\[K1,200 of 5,000 statements, [\d,]+/s", terminal.getvalue())
    progress.clear()
    assert terminal.getvalue().endswith("\r\x1b[K")
    piped = io.StringIO()
    quiet = _Progress(piped, 5000)
    quiet.drawn -= 1
    quiet.show(10)
    assert piped.getvalue() == ""
    script = tmp_path / "many.sql"
    script.write_text("".join(f"DEFINE v{i} = '{i}';\n" for i in range(300)))
    result = run(["run", str(script)], tmp_path)
    assert result.returncode == 0 and "statements," not in result.stderr


def test_a_push_query_shows_its_live_count_on_a_terminal_only():
    from ksql.repl.render import stream_rows
    from ksql.results import RowStream

    class Tty(io.StringIO):
        def isatty(self):
            return True

    def rows():
        yield [1]
        time.sleep(0.25)  # (a push query's rows come over time)
        yield [2]

    terminal = Tty()
    stream_rows(RowStream("SELECT ...", "q", ["ID"], ["INTEGER"], rows, lambda: None, push=True), terminal,
                hint=True)
    shown = terminal.getvalue()
    assert re.search(r"\| 1 +\|\n1 rows, [\d,]+ rows/s \(Ctrl-C stops\)\r\x1b\[K\| 2 ", shown)
    assert shown.count("rows/s (Ctrl-C stops)") == 2 and "\x1b[K+" in shown  # wiped before the footer
    piped = io.StringIO()
    stream_rows(RowStream("SELECT ...", "q", ["ID"], ["INTEGER"], rows, lambda: None, push=True), piped,
                hint=True)
    assert "rows/s (Ctrl-C" not in piped.getvalue()


def test_the_datagen_quickstart_from_the_shell(tmp_path):
    """The README's connector quickstart: one statement makes a running generator, a stream over
    its topic infers the quickstart's columns, a push query shows its orders."""
    result = run(["--data-dir", "d", "-e", """
        CREATE SOURCE CONNECTOR orders_gen WITH (
          'connector.class' = 'io.confluent.kafka.connect.datagen.DatagenConnector',
          'kafka.topic' = 'orders', 'quickstart' = 'orders', 'max.interval' = '50',
          'value.converter' = 'io.confluent.connect.avro.AvroConverter');
        CREATE STREAM orders WITH (kafka_topic = 'orders', value_format = 'AVRO');
        SET 'auto.offset.reset' = 'earliest';
        SELECT orderid, address->zipcode >= 10000 AS zip FROM orders EMIT CHANGES LIMIT 2;
        SHOW CONNECTORS;"""], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Created connector ORDERS_GEN" in result.stdout
    assert re.search(r"\| 0 +\| true +\|\n\| 1 +\| true +\|", result.stdout), result.stdout
    assert re.search(r"ORDERS_GEN +\| SOURCE +\| io.confluent.kafka.connect.datagen.DatagenConnector +\| "
                     r"RUNNING \(1/1 tasks RUNNING\)", result.stdout), result.stdout
