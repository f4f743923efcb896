"""The engine facade: `KsqlEngine(data_dir).execute(sql)` runs statements end to end.

The engine is split by statement family, one module each (a mixin of KsqlEngine): core.py
(executing, the handler table), commands.py (the command topic), ddl.py, queries.py
(persistent queries), inserts.py, select.py (push queries, PRINT), pull.py, describe.py (SHOW,
DESCRIBE, EXPLAIN), session.py; with_clause.py, limits.py, backends.py and clock.py are what
they share.
"""
from ksql.engine.backends import open_log, open_registry
from ksql.engine.core import HANDLERS, KsqlEngine
from ksql.engine.session import DEFAULT_PROPERTIES, Session, StatementFailed

__all__ = ["DEFAULT_PROPERTIES", "HANDLERS", "KsqlEngine", "Session", "StatementFailed", "open_log",
           "open_registry"]
