"""Scripts as text: splitting into statements, completeness for the shell, ${variables}."""
from __future__ import annotations

import re
from dataclasses import dataclass


# Strings, quoted identifiers and comments are skipped whole, so a ';' inside them
# does not end a statement.
_SPLIT_TOKENS = re.compile(
    r"'(?:[^']|'')*'?|`(?:[^`]|``)*`?|\"(?:[^\"]|\"\")*\"?|--[^\n]*|/\*.*?(?:\*/|$)|;",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class StatementText:
    text: str  # the statement, with its ';' when it had one
    line: int  # 1-based line of its first character in the script
    column: int  # 1-based column of its first character


def in_script(position: tuple[int, int], start: tuple[int, int]) -> tuple[int, int]:
    """A (line, column) counted in a statement, counted instead in the script where the
    statement starts at `start`: lines add; columns add only on the statement's first line."""
    line, column = position
    return start[0] + line - 1, (start[1] + column - 1 if line == 1 else column)


def split_statements(script: str) -> list[StatementText]:
    """Split a script into statements on ';', keeping each one's position."""
    pieces = []
    start = 0
    for match in _SPLIT_TOKENS.finditer(script):
        if match.group() == ";":
            pieces.append((start, match.end()))
            start = match.end()
    pieces.append((start, len(script)))
    result = []
    line, line_start, counted = 1, 0, 0  # line numbers are counted incrementally
    for begin, end in pieces:
        text = script[begin:end]
        if not _has_code(text):
            continue
        # the statement starts at its first token: comments before it are not part of its text
        offset = begin + BETWEEN_TOKENS.match(text).end()
        line += script.count("\n", counted, offset)
        newline = script.rfind("\n", counted, offset)
        if newline >= 0:
            line_start = newline + 1
        counted = offset
        result.append(StatementText(script[offset:end].strip(), line, offset - line_start + 1))
    return result


# spaces and comments, as between two tokens
BETWEEN_TOKENS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def _has_code(text: str) -> bool:
    stripped = _SPLIT_TOKENS.sub(lambda m: m.group() if m.group()[0] in "'`\"" else " ", text)
    return bool(stripped.strip().strip(";").strip())


def is_complete(buffer: str) -> bool:
    """True when the buffer ends a statement (a ';' outside strings and comments)."""
    last = None
    for match in _SPLIT_TOKENS.finditer(buffer):
        if match.group() == ";":
            last = match
    if last is None:
        return False
    return not _has_code(buffer[last.end():])


_VARIABLE = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute_variables(text: str, variables: dict[str, str]) -> str:
    """Replace ${name} with the value of a DEFINEd variable; unknown names are kept, and
    $${name} is the text ${name} itself."""
    if "${" not in text:
        return text
    lookup = {k.upper(): v for k, v in variables.items()}

    def value(match):
        if match.group(1):
            return match.group()[1:]
        return lookup.get(match.group(2).upper(), match.group())

    return _VARIABLE.sub(value, text)


def define_variable(variables: dict[str, str], name: str, value: str) -> None:
    """Set a variable; names match whatever their case, the last spelling is kept."""
    undefine_variable(variables, name)
    variables[name] = value


def undefine_variable(variables: dict[str, str], name: str) -> bool:
    """Remove a variable (any case); False when there was none."""
    found = [k for k in variables if k.upper() == name.upper()]
    for key in found:
        del variables[key]
    return bool(found)
