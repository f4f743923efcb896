"""The errors users see, under their long-standing name (they live at the bottom of the layers,
in `ksql.parser.errors`, so every layer can raise them)."""
from ksql.parser.errors import (  # noqa: F401
    KsqlError,
    KsqlFunctionError,
    KsqlPreparationError,
    KsqlRecordError,
    KsqlStatementError,
    KsqlSyntaxError,
)
