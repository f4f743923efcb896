"""The grammar loaded into lark, and what it says about keywords (for errors and completion)."""
from __future__ import annotations

import functools
from importlib import resources

import lark

from ksql.parser.errors import KsqlSyntaxError


@functools.cache
def grammar_text() -> str:
    return resources.files("ksql.grammar").joinpath("ksql.lark").read_text()


@functools.cache
def lark_parser() -> lark.Lark:
    return lark.Lark(grammar_text(), parser="lalr", lexer="contextual",
                     propagate_positions=True, maybe_placeholders=True,
                     cache=True)  # the LALR tables take ~2 s to build; lark keeps them in a temp file


@functools.cache
def keywords() -> tuple[str, ...]:
    """Every keyword of the language, taken from the grammar's keyword terminals."""
    names = []
    for term in lark_parser().terminals:
        pattern = term.pattern
        if isinstance(pattern, lark.lexer.PatternStr) and pattern.value.isalpha():
            names.append(pattern.value.upper())
    return tuple(sorted(names))


@functools.cache
def _keyword_terminals() -> dict[str, str]:
    """Terminal name -> the keyword it matches."""
    return {term.name: term.pattern.value.upper() for term in lark_parser().terminals
            if isinstance(term.pattern, lark.lexer.PatternStr) and term.pattern.value.isalpha()}


@functools.cache
def non_reserved() -> frozenset[str]:
    """The keywords that may also be names (the grammar's non_reserved rule)."""
    terminals = _keyword_terminals()
    return frozenset(terminals[symbol.name] for rule in lark_parser().rules if rule.origin.name == "non_reserved"
                     for symbol in rule.expansion if symbol.name in terminals)


def expected_next(text: str) -> tuple[set[str], bool] | None:
    """What the grammar accepts after `text` (a statement begun): the keywords, and whether a
    name may come; None when `text` already does not parse (completion then guesses)."""
    try:
        interactive = lark_parser().parse_interactive(text)
        interactive.exhaust_lexer()
        accepted = interactive.accepts()
    except (lark.exceptions.LarkError, KsqlSyntaxError):
        return None
    terminals = _keyword_terminals()
    name = bool(accepted & {"IDENTIFIER", "BACKQUOTED_IDENTIFIER", "QUOTED_IDENTIFIER"})
    words = {terminals[t] for t in accepted if t in terminals}
    if name and words >= non_reserved():
        # all the non-reserved keywords: there as names, not as what the statement needs next
        words -= non_reserved()
    return words, name



@functools.cache
def non_reserved_terminals() -> frozenset[str]:
    """Keyword terminals that the grammar also accepts as names."""
    return frozenset(rule.expansion[0].name for rule in lark_parser().rules
                     if rule.origin.name == "non_reserved")


def terminal_display(name: str) -> str:
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name
    if isinstance(pattern, lark.lexer.PatternStr):
        return pattern.value.upper() if pattern.value.isalpha() else f"'{pattern.value}'"
    return {"IDENTIFIER": "an identifier", "DIGIT_IDENTIFIER": "an identifier", "STRING": "a string",
            "INTEGER_VALUE": "a number", "DECIMAL_VALUE": "a number", "DOUBLE_VALUE": "a number",
            "QUOTED_IDENTIFIER": "an identifier", "BACKQUOTED_IDENTIFIER": "an identifier"}.get(name, name)


@functools.cache
def reserved_words() -> frozenset[str]:
    """Keywords that cannot be names unless back-quoted."""
    return frozenset(keywords()) - {terminal_display(t) for t in non_reserved_terminals()}
