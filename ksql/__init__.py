"""ksql: a streaming SQL engine. The engine facade is `ksql.engine.KsqlEngine`."""

__version__ = "0.1.0"

import logging as _logging

# Library logging stays silent unless the application configures it; record-level problems
# go to the processing log and query failures show in SHOW QUERIES / DESCRIBE EXTENDED.
_logging.getLogger("ksql").addHandler(_logging.NullHandler())
_logging.getLogger("ksql").propagate = False
