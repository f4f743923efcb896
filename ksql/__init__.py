"""ksql: a streaming SQL engine. The engine facade is `ksql.engine.KsqlEngine`."""

__version__ = "0.1.0"
