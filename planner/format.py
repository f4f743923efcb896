"""Expression text for messages and column names: the parser's SQL printer."""
from ksql.parser.format import format_expression, format_type  # noqa: F401
