"""Statements that differ only in their literals are parsed once.

A client looking up keys (`SELECT * FROM t WHERE id = 42;`) or inserting rows sends the same
statement over and over with other values; parsing is most of what such a statement costs. The
text's shape (the text with every string and small integer literal replaced by a marker) keys a
parsed statement whose literals are stand-ins, and a statement of a known shape is that AST with
its own values put in place of the stand-ins.

A shape is only cached when it is safe to: every stand-in must come out of the parser as exactly
one Literal node (not a property value, a LIMIT or a duration, which the parser turns into other
things), and putting the first text's own values back must give exactly the AST the parser gave
for it. Statements with comments are not cached.
"""
from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from typing import Callable

from ksql.parser import ast
from ksql.parser.expression_rules import string_text

_CACHED_KINDS = (ast.QueryStatement, ast.InsertValues)
_MAX_SHAPES = 512

# Words and quoted names are matched so that digits inside them are not taken for numbers.
# Integers of up to 9 digits always parse as INTEGER literals; longer ones stay in the shape.
_TOKENS = re.compile(r"""
    [A-Za-z_][A-Za-z0-9_@$]*
  | "(?:[^"]|"")*" | `(?:[^`]|``)*`
  | (?P<string>'(?:[^']|'')*')
  | (?<![0-9.])(?P<number>[0-9]{1,9})(?![0-9A-Za-z_@$.])
""", re.VERBOSE)

_STRING_MARK = "\x00s"
_NUMBER_MARK = "\x00n"
_INTEGER_STAND_IN = 1_000_000_000  # plus the literal's position: 10 digits, still an INTEGER


@dataclasses.dataclass(frozen=True)
class _Shape:
    statement: ast.Statement  # parsed with stand-ins for the literals
    stand_ins: tuple[tuple[ast.Literal, bool], ...]  # per literal: its stand-in, and whether it was negated
    # ids of the statement's nodes with a stand-in below them: filling in values rebuilds only
    # these, not every node of the statement
    holders: frozenset[int] = frozenset()


_shapes: OrderedDict[str, _Shape | None] = OrderedDict()  # None: a shape found not to be cacheable
_lock = threading.Lock()


def _shape_of(text: str) -> tuple[str, list[str]] | None:
    """The text with its literals marked, and the literals' own text."""
    if "\x00" in text or "--" in text or "/*" in text:
        return None
    literals: list[str] = []

    def mark(match: re.Match) -> str:
        if match.lastgroup == "string":
            literals.append(match.group())
            return _STRING_MARK
        if match.lastgroup == "number":
            literals.append(match.group())
            return _NUMBER_MARK
        return match.group()

    shaped = _TOKENS.sub(mark, text)
    return (shaped, literals) if literals else None


def literal_values(text: str) -> tuple[str, list[int | str]] | None:
    """The text's shape and the values the parser reads from its marked literals (a number's
    INTEGER, a string's text), in order; None when it has no literals, or comments."""
    found = _shape_of(text)
    if found is None:
        return None
    shaped, literals = found
    return shaped, [string_text(literal) if literal.startswith("'") else int(literal) for literal in literals]


def parse_cached(text: str, parse: Callable[[str], ast.Statement]) -> ast.Statement:
    """`parse(text)`, through the cache of statement shapes."""
    found = _shape_of(text)
    if found is None:
        return parse(text)
    shaped, literals = found
    with _lock:
        known = _shapes.get(shaped, False)
        if known is not False:
            _shapes.move_to_end(shaped)
    if known is None:
        return parse(text)
    if known is not False:
        return _fill(known, literals)
    statement = parse(text)  # errors are raised here, before anything is cached
    shape = _learn(shaped, literals, statement, parse) if isinstance(statement, _CACHED_KINDS) else None
    with _lock:
        _shapes[shaped] = shape
        if len(_shapes) > _MAX_SHAPES:
            _shapes.popitem(last=False)
    return statement


def _learn(shaped: str, literals: list[str], statement: ast.Statement, parse) -> _Shape | None:
    """Parse the shape with stand-ins; None when its literals don't map one to one onto nodes."""
    pieces = shaped.replace(_NUMBER_MARK, "\x00").replace(_STRING_MARK, "\x00").split("\x00")
    stand_in_text, stand_ins = [pieces[0]], []
    for position, (literal, piece) in enumerate(zip(literals, pieces[1:])):
        if literal.startswith("'"):
            stand_ins.append(ast.Literal(f"\x01{position}\x01", "STRING"))
            stand_in_text.append(f"'\x01{position}\x01'")
        else:
            stand_ins.append(ast.Literal(_INTEGER_STAND_IN + position, "INTEGER"))
            stand_in_text.append(str(_INTEGER_STAND_IN + position))
        stand_in_text.append(piece)
    try:
        template = _unplaced(parse("".join(stand_in_text)))
    except Exception:  # noqa: BLE001 - a stand-in the parser refuses: this shape is not cached
        return None
    found: dict[ast.Literal, int] = {}
    _collect_literals(template, found)
    signs = []
    for stand_in in stand_ins:
        negated = ast.Literal(-stand_in.value, "INTEGER") if stand_in.kind == "INTEGER" else None
        plain, minus = found.get(stand_in, 0), found.get(negated, 0)
        if plain + minus != 1:
            return None
        signs.append(minus == 1)
    placed = {ast.Literal(-stand_in.value, "INTEGER") if negated else stand_in
              for stand_in, negated in zip(stand_ins, signs)}
    holders: set[int] = set()
    _mark_holders(template, placed, holders)
    shape = _Shape(template, tuple(zip(stand_ins, signs)), frozenset(holders))
    if _fill(shape, literals) != statement:
        return None
    return shape


def _fill(shape: _Shape, literals: list[str]) -> ast.Statement:
    values = {}
    for (stand_in, negated), literal in zip(shape.stand_ins, literals):
        if stand_in.kind == "STRING":
            values[stand_in] = ast.Literal(string_text(literal), "STRING")
        else:
            number = int(literal)
            stand = ast.Literal(-stand_in.value, "INTEGER") if negated else stand_in
            values[stand] = ast.Literal(-number if negated else number, "INTEGER")
    return _replace(shape.statement, values, shape.holders)


def _field_names(node) -> tuple[str, ...]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    return names


_FIELDS: dict[type, tuple[str, ...]] = {}


def _children(node) -> tuple:
    if isinstance(node, tuple):
        return node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return tuple(getattr(node, name) for name in _field_names(node))
    return ()


def _collect_literals(node, found: dict) -> None:
    if isinstance(node, ast.Literal):
        if type(node.value) in (int, str):
            found[node] = found.get(node, 0) + 1
        return
    for child in _children(node):
        _collect_literals(child, found)


def _mark_holders(node, placed: set, holders: set[int]) -> bool:
    """Whether a literal of `placed` is `node` or below it; adds the ids of the nodes above one."""
    if isinstance(node, ast.Literal):
        return type(node.value) in (int, str) and node in placed
    found = False
    for child in _children(node):
        found = _mark_holders(child, placed, holders) or found
    if found:
        holders.add(id(node))
    return found


def _replace(node, values: dict, holders: frozenset[int]):
    """`node` with every Literal in `values` replaced, rebuilding only the nodes in `holders`
    (those with a replaced literal below them); the other parts are shared."""
    if isinstance(node, ast.Literal):
        return values.get(node, node) if type(node.value) in (int, str) else node
    if id(node) not in holders:
        return node
    if isinstance(node, tuple):
        items = tuple(_replace(item, values, holders) for item in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for name in _field_names(node):
            old = getattr(node, name)
            new = _replace(old, values, holders)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(node, **changes) if changes else node
    return node


def _unplaced(node):
    """`node` without the positions of its column references: a shape's are those of its
    stand-in text, not of the statements it stands for (whose errors then point at the
    statement rather than into it)."""
    if isinstance(node, ast.ColumnRef):
        return node if node.position is None else dataclasses.replace(node, position=None)
    if isinstance(node, tuple):
        items = tuple(_unplaced(item) for item in node)
        return node if all(a is b for a, b in zip(items, node)) else items
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {}
        for name in _field_names(node):
            old = getattr(node, name)
            new = _unplaced(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(node, **changes) if changes else node
    return node
