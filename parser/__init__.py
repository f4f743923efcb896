"""SQL text -> AST. See `parse.py` for the entry points."""
from ksql.parser.lark_grammar import keywords  # noqa: F401
from ksql.parser.parse import parse_expression, parse_script, parse_statement  # noqa: F401
from ksql.parser.scripts import (  # noqa: F401
    StatementText,
    define_variable,
    in_script,
    is_complete,
    split_statements,
    substitute_variables,
    undefine_variable,
)
