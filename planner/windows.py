"""A query's window as the plan carries it: the WINDOW clause with its grace period and
retention resolved once, here, for the operators, the changelog and EXPLAIN alike."""
from __future__ import annotations

from dataclasses import dataclass

from ksql.parser import ast

# ksqlDB's grace period when a windowed aggregation names none (EMIT FINAL closes at window end)
DEFAULT_GRACE_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class WindowSpec:
    kind: str  # TUMBLING | HOPPING | SESSION
    size: int  # milliseconds (the inactivity gap for SESSION)
    advance: int | None  # HOPPING: how far each window starts after the previous one
    grace: int  # how long after its end a window still takes late records
    retention: int  # how long after its start a window is kept (for pull queries, late records)

    def describe(self) -> str:
        size = f"GAP {duration(self.size)}" if self.kind == "SESSION" else f"SIZE {duration(self.size)}"
        advance = f", ADVANCE BY {duration(self.advance)}" if self.advance else ""
        return f"{self.kind} ({size}{advance}, GRACE {duration(self.grace)}, RETENTION {duration(self.retention)})"


def resolve_window(window: ast.Window | None, emit_final: bool = False) -> WindowSpec | None:
    """RETENTION defaults to size + grace; grace to 24 hours, or 0 with EMIT FINAL (suppression
    closes each window at its end)."""
    if window is None:
        return None
    grace = window.grace if window.grace is not None else (0 if emit_final else DEFAULT_GRACE_MS)
    retention = window.retention if window.retention is not None else window.size + grace
    return WindowSpec(window.kind, window.size, window.advance, grace, retention)


_UNITS = ((24 * 3600 * 1000, "DAYS"), (3600 * 1000, "HOURS"), (60 * 1000, "MINUTES"), (1000, "SECONDS"))


def duration(ms: int) -> str:
    """Milliseconds in the largest unit that divides them: 86400000 -> 1 DAYS."""
    for unit, name in _UNITS:
        if ms and ms % unit == 0:
            count = ms // unit
            return f"{count} {name if count != 1 else name[:-1]}"
    return f"{ms} MILLISECONDS"
