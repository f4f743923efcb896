"""Row values the runtime hands up to the engine and the server."""
from __future__ import annotations


class TombstoneRow(list):
    """A push-query row for a table row that was deleted: its key, other columns null."""
