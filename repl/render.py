"""Rendering statement results as text, in the style of ksqlDB's CLI."""
from __future__ import annotations

import datetime
import json
import time
from typing import Iterable, TextIO

from ksql.planner.values import format_value, json_default as _json_default
from ksql.results import (DescribeResult, DescriptionsResult, EntityResult, ListResult, RowStream, StatusResult,
                          TextResult, entity_json)


def cell(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):  # as ksqlDB's CLI shows a TIMESTAMP
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return format_value(value)


def fit(widths: list[int], limit: int | None, border: int) -> list[int]:
    """Column widths narrowed, widest first, so that a line fits `limit` characters (each
    column costs its width plus `border`); None leaves them as they are."""
    widths = list(widths)
    if not limit:
        return widths
    while sum(widths) + border * len(widths) + 1 > limit - 1:  # the last column stays free: no wrap
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= 4:
            break
        widths[widest] -= 1
    return widths


def wrap(value: str, width: int) -> list[str]:
    """A value's lines within `width` characters: its own line breaks, then cut to the width
    (nothing is left out; as ksqlDB's CLI, a long value goes on over more lines of its cell)."""
    width = max(width, 1)
    pieces = []
    for part in value.split("\n"):
        pieces += [part[i:i + width] for i in range(0, len(part), width)] or [""]
    return pieces


def boxed(values: list[str], widths: list[int], left: str, middle: str, right: str) -> str:
    """One row of cells, each wrapped to its column, over as many lines as the tallest needs."""
    cells = [wrap(v, w) for v, w in zip(values, widths)]
    height = max((len(c) for c in cells), default=1)
    return "\n".join(left + middle.join(((c[i] if i < len(c) else "").ljust(w)) for c, w in zip(cells, widths))
                     + right for i in range(height))


def table(headers: list[str], rows: Iterable[list], width: int | None = None) -> str:
    """A listing like ksqlDB's: header, a rule, rows, a rule (narrowed to `width` columns)."""
    rows = [[cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], max(map(len, value.split("\n"))))
    widths = fit(widths, width, 3)
    rule = "-" * (sum(widths) + 3 * len(widths) - 1)
    out = [boxed(headers, widths, " ", " | ", " "), rule]
    out += [boxed(r, widths, " ", " | ", " ") for r in rows]
    out.append(rule)
    return "\n".join(out)


class RowPrinter:
    """Prints query rows in a box: sized by the header for rows still to come (push queries),
    or by every value when the rows are known up front (pull queries)."""

    def __init__(self, names: list[str], out: TextIO, known_rows: list | None = None, width: int | None = None):
        self.widths = [max(len(n), 8) for n in names]
        for row in known_rows or ():
            self.widths = [max(w, len(cell(v))) for w, v in zip(self.widths, row)]
        if width and known_rows is None and names:
            # rows still to come: share the terminal's width between the columns, as ksqlDB does
            share = (width - 2 - 3 * len(names)) // len(names)
            self.widths = [max(w, share) for w in self.widths]
        self.widths = fit(self.widths, width, 3)
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
        # a value wider than its column goes on over more lines: the columns stay in line, on a
        # terminal or not, and nothing is cut off
        return boxed(values, self.widths, "| ", " | ", " |")


def render(result, out: TextIO, output: str = "TABULAR", width: int | None = None) -> None:
    """Write a non-streaming result (everything except RowStream), tables narrowed to `width`."""
    if output == "JSON":
        out.write(json.dumps(to_json(result), indent=2, default=_json_default) + "\n")
        return
    if isinstance(result, StatusResult):
        out.write(table(["Message"], [[result.message]], width) + "\n")
    elif isinstance(result, ListResult):
        out.write(table(result.headers, result.rows, width) + "\n")
    elif isinstance(result, DescriptionsResult):
        for description in result.descriptions:
            render(description, out, output, width)
    elif isinstance(result, DescribeResult):
        out.write(f"\n{result.title}\n")
        out.write(table(result.headers, result.rows, width) + "\n")
        for name, value in result.details:
            out.write(f"{name:<20} : {value}\n")
    elif isinstance(result, TextResult):
        out.write(result.text + "\n")
    elif isinstance(result, EntityResult):
        out.write(entity_text(result.kind, result.entity, width) + "\n")
    out.flush()


def entity_text(kind: str, entity: dict, width: int | None = None) -> str:
    """How the shell shows an entity passed on whole (the connector statements', warnings)."""
    if kind == "connector_info":
        return table(["Message"], [[f"Created connector {entity['info']['name']}"]], width)
    if kind == "drop_connector":
        return table(["Message"], [[f'Dropped connector "{entity["connectorName"]}"']], width)
    if kind == "warning_entity":
        return table(["Message"], [[entity["message"]]], width)
    if kind == "error_entity":
        return entity["errorMessage"]
    if kind == "connector_list":
        rows = [[c["name"], (c.get("type") or "").upper(), c.get("className") or "", c.get("state") or ""]
                for c in entity["connectors"]]
        warnings = "".join(f"\nWARNING: {w['message']}" for w in entity.get("warnings", []))
        return table(["Connector Name", "Type", "Class", "Status"], rows, width) + warnings
    if kind == "connector_plugins_list":
        rows = [[p["className"], (p.get("type") or "").upper(), p.get("version") or ""]
                for p in entity["connectorsPlugins"]]
        return table(["Class", "Type", "Version"], rows, width)
    if kind == "connector_description":
        return _connector_description(entity, width)
    return json.dumps(entity, indent=2, default=_json_default)


def _connector_description(entity: dict, width: int | None) -> str:
    status = entity["status"]
    lines = [f"{'Name':<20} : {status['name']}", f"{'Class':<20} : {entity['connectorClass']}",
             f"{'Type':<20} : {status.get('type')}", f"{'State':<20} : {status['connector']['state']}",
             f"{'WorkerId':<20} : {status['connector'].get('worker_id', '')}", ""]
    tasks = [[t["id"], t["state"], t.get("trace", "")] for t in status.get("tasks", [])]
    lines.append(table(["Task ID", "State", "Error Trace"], tasks, width))
    if entity.get("sources"):
        sources = [[s["name"], s["topic"], s["type"]] for s in entity["sources"]]
        lines += ["", table(["ksqlDB Source Name", "Kafka Topic", "Type"], sources, width)]
    if entity.get("topics"):
        lines += ["", table(["Related Topics"], [[t] for t in entity["topics"]], width)]
    return "\n".join(lines)


def stream_rows(result: RowStream, out: TextIO, output: str = "TABULAR", width: int | None = None,
                hint: bool = False) -> int:
    """Print a query's rows (or PRINT's lines) until it ends; returns the row count. `hint`
    tells the user of a push query how to stop it."""
    if hint and (result.push or result.is_print):
        out.write("Press CTRL-C to interrupt\n")
        out.flush()
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
    if not result.push and result.poll is None or not hint and (result.limit is not None or not result.push):
        # a pull query, or in a script one that ends (a LIMIT, a scan): all the rows first, so the
        # columns fit them
        known_rows = rows = list(rows)
    printer = RowPrinter(result.column_names, out, known_rows, width)
    printer.header()
    started = time.monotonic()
    live = _LiveCount(out) if hint and known_rows is None else None
    try:
        for row in rows:
            if live:
                live.wipe()
            printer.row(row)
            count += 1
            if live:
                live.show(count, started)
    finally:
        if live:
            live.wipe()
        printer.footer()
        seconds = time.monotonic() - started
        if hint and known_rows is None and seconds >= 1:  # a long push query: how much came, how fast
            out.write(f"{count:,} rows in {seconds:.1f} s ({count / seconds:,.0f} rows/s)\n")
            out.flush()
    return count


class StatusLine:
    """One line on the terminal about work under way, redrawn at most 5 times a second and
    wiped before anything else is written; nothing when the output is not a terminal (nor in
    a spool file: the shell's output has the terminal apart)."""

    def __init__(self, out, wanted: bool = True, wait_first: bool = False):
        self.terminal = getattr(out, "terminal", out)
        self.on = wanted and hasattr(self.terminal, "isatty") and self.terminal.isatty()
        self.started = time.monotonic()
        self.drawn = self.started if wait_first else 0.0
        self.shown = False

    def draw(self, text) -> None:
        """Write text(seconds since the start) if a redraw is due."""
        now = time.monotonic()
        if self.on and now - self.drawn >= 0.2:
            self.terminal.write(text(now - self.started))
            self.terminal.flush()
            self.drawn, self.shown = now, True

    def wipe(self) -> None:
        if self.shown:
            self.terminal.write("\r\033[K")
            self.terminal.flush()
            self.shown = False


class _LiveCount(StatusLine):
    """Under a push query's rows: how many came and how fast, wiped before the next row."""

    def show(self, count: int, started: float) -> None:
        self.draw(lambda _: f"{count:,} rows, {count / max(time.monotonic() - started, 1e-9):,.0f} rows/s "
                            f"(Ctrl-C stops)")


def to_json(result) -> dict:
    if isinstance(result, StatusResult):
        return {"@type": result.kind, "statementText": result.statement,
                "commandStatus": {"status": "SUCCESS", "message": result.message, "queryId": result.query_id}}
    if isinstance(result, ListResult):
        return {"@type": result.kind, "statementText": result.statement, result.kind: result.items}
    if isinstance(result, DescriptionsResult):
        return {"@type": "source_descriptions", "statementText": result.statement,
                "sourceDescriptions": [d.item for d in result.descriptions]}
    if isinstance(result, DescribeResult):
        return {"@type": result.kind, "statementText": result.statement, "sourceDescription": result.item}
    if isinstance(result, TextResult):
        return {"@type": result.kind, "statementText": result.statement, "text": result.text}
    if isinstance(result, EntityResult):
        return entity_json(result)
    return {}

