"""Rendering statement results as text, in the style of ksqlDB's CLI."""
from __future__ import annotations

import json
from typing import Iterable, TextIO

from ksql.planner.values import format_value, json_default as _json_default
from ksql.results import DescribeResult, ListResult, RowStream, StatusResult, TextResult


def cell(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return format_value(value)


def table(headers: list[str], rows: Iterable[list]) -> str:
    """A listing like ksqlDB's: header, a rule, rows, a rule."""
    rows = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    line = lambda values: " " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " "  # noqa: E731
    rule = "-" * (sum(widths) + 3 * len(widths) - 1)
    out = [line(headers), rule]
    out += [line(r) for r in rows]
    out.append(rule)
    return "\n".join(out)


class RowPrinter:
    """Prints query rows in a box: sized by the header for rows still to come (push queries),
    or by every value when the rows are known up front (pull queries)."""

    def __init__(self, names: list[str], out: TextIO, known_rows: list | None = None):
        self.widths = [max(len(n), 8) for n in names]
        for row in known_rows or ():
            self.widths = [max(w, len(cell(v))) for w, v in zip(self.widths, row)]
        self.names = names
        self.out = out
        self.rule = "+" + "+".join("-" * (w + 2) for w in self.widths) + "+"

    def header(self) -> None:
        self.out.write(self.rule + "\n" + self._line(self.names) + "\n" + self.rule + "\n")

    def row(self, values: list) -> None:
        self.out.write(self._line([cell(v) for v in values]) + "\n")
        self.out.flush()

    def footer(self) -> None:
        self.out.write(self.rule + "\n")

    def _line(self, values: list[str]) -> str:
        return "|" + "|".join(" " + v.ljust(w) + " " for v, w in zip(values, self.widths)) + "|"


def render(result, out: TextIO, output: str = "TABULAR") -> None:
    """Write a non-streaming result (everything except RowStream)."""
    if output == "JSON":
        out.write(json.dumps(to_json(result), indent=2, default=_json_default) + "\n")
        return
    if isinstance(result, StatusResult):
        out.write(table(["Message"], [[result.message]]) + "\n")
    elif isinstance(result, ListResult):
        out.write(table(result.headers, result.rows) + "\n")
    elif isinstance(result, DescribeResult):
        out.write(f"\n{result.title}\n")
        out.write(table(result.headers, result.rows) + "\n")
        for name, value in result.details:
            out.write(f"{name:<20} : {value}\n")
    elif isinstance(result, TextResult):
        out.write(result.text + "\n")
    out.flush()


def stream_rows(result: RowStream, out: TextIO, output: str = "TABULAR") -> int:
    """Print a push query's rows (or PRINT's lines) until it ends; returns the row count."""
    count = 0
    if result.is_print:
        for line in result.rows():
            out.write(line + "\n")
            out.flush()
            count += 1
        return count
    if output == "JSON":
        for row in result.rows():
            out.write(json.dumps(dict(zip(result.column_names, row)), default=_json_default) + "\n")
            out.flush()
            count += 1
        return count
    rows = result.rows()
    known_rows = None
    if result.poll is None:  # a pull query: every row is at hand, so the columns fit them
        known_rows = rows = list(rows)
    printer = RowPrinter(result.column_names, out, known_rows)
    printer.header()
    try:
        for row in rows:
            printer.row(row)
            count += 1
    finally:
        printer.footer()
    return count


def to_json(result) -> dict:
    if isinstance(result, StatusResult):
        return {"@type": result.kind, "statementText": result.statement,
                "commandStatus": {"status": "SUCCESS", "message": result.message, "queryId": result.query_id}}
    if isinstance(result, ListResult):
        return {"@type": result.kind, "statementText": result.statement, result.kind: result.items}
    if isinstance(result, DescribeResult):
        return {"@type": result.kind, "statementText": result.statement, "sourceDescription": result.item}
    if isinstance(result, TextResult):
        return {"@type": result.kind, "statementText": result.statement, "text": result.text}
    return {}

