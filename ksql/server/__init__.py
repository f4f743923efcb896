"""`ksql server`: the engine behind ksqlDB's REST API. app.py holds the routes (KsqlServer),
values.py how rows and schemas are written, protocol.py the content types, error bodies and
limits, middleware.py the layers every request passes through, main.py the command line."""
from ksql.server.app import KsqlServer
from ksql.server.main import main
from ksql.server.values import row_values

__all__ = ["KsqlServer", "main", "row_values"]
