"""SQL text -> AST. See `parse.py` for the entry points."""
from ksql.parser.parse import (  # noqa: F401
    StatementText,
    define_variable,
    is_complete,
    keywords,
    parse_expression,
    parse_script,
    parse_statement,
    split_statements,
    substitute_variables,
    undefine_variable,
)
