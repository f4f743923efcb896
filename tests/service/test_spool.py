# from developer-guide/ksqldb-reference/spool.md
"""SPOOL in the shell: the commands issued and their results go to the file, each command
after `ksql>`; one spool at a time; SPOOL OFF closes it."""
from __future__ import annotations

from processes import Terminal


def test_spool_writes_commands_and_results_until_off(tmp_path):
    term = Terminal(["--data-dir", "data"], tmp_path)
    term.expect("ksql>")
    term.send("SPOOL first.txt\r")
    term.expect("Spooling to first.txt")
    term.send("CREATE STREAM clicks (id INT KEY, url STRING) WITH (kafka_topic='clicks', value_format='JSON', "
              "partitions=1);\r")
    term.expect("Stream created")
    term.send("SPOOL second.txt\r")  # only one spool is active: the first one closes
    term.expect("Spooling to second.txt")
    term.send("SHOW STREAMS;\r")
    term.expect("CLICKS")
    term.send("SPOOL OFF\r")
    term.expect("Stopped spooling to second.txt")
    term.send("DESCRIBE clicks;\r")
    term.expect("URL")
    term.send("exit\r")
    assert term.close() == 0
    first = (tmp_path / "first.txt").read_text()
    second = (tmp_path / "second.txt").read_text()
    assert "ksql> CREATE STREAM clicks" in first and "Stream created" in first
    assert "SHOW STREAMS" not in first
    assert "ksql> SHOW STREAMS;" in second and "CLICKS" in second
    assert "DESCRIBE" not in second  # after SPOOL OFF nothing more is written
