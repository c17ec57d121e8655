"""The search expressions retrieval builds, as PostgreSQL's tsquery text: the same grammar
FTS5 reads (quoted words, OR, AND, parentheses), and nothing else, so no text a person typed
reaches the query parser unquoted."""

from __future__ import annotations

import re

# What retrieval writes: a quoted word ("" inside is a quote), a parenthesis, OR or AND.
TOKEN = re.compile(r'\s*(?:"((?:[^"]|"")*)"|(\()|(\))|(OR)\b|(AND)\b)')
OPERATORS = {"(": "(", ")": ")", "OR": "|", "AND": "&"}


class NotAnExpression(ValueError):
    """Text that is not a search expression retrieval builds."""


def tsquery(expression: str) -> str:
    """`("pricing" OR "price") AND "churn"` -> `( 'pricing' | 'price' ) & 'churn'`: each
    word a quoted lexeme the configuration stems, each operator PostgreSQL's."""
    out: list[str] = []
    at = 0
    while at < len(expression):
        match = TOKEN.match(expression, at)
        if match is None or match.end() == at:
            if expression[at:].strip():
                raise NotAnExpression(
                    f"not a search expression at {at}: {expression[at : at + 20]!r}"
                )
            break
        at = match.end()
        word, *operators = match.groups()
        if word is not None:
            lexeme = word.replace('""', '"').replace("\\", "\\\\").replace("'", "''")
            out.append(f"'{lexeme}'")
        else:
            out.append(next(OPERATORS[o] for o in operators if o is not None))
    return " ".join(out)


def any_of_words(expression: str) -> list[str] | None:
    """The words of an expression that only ORs words together (`("price" OR "pricing")`),
    or None when it says more (an AND): such a match is any of their stems."""
    words: list[str] = []
    at = 0
    while at < len(expression):
        match = TOKEN.match(expression, at)
        if match is None or match.end() == at:
            if expression[at:].strip():
                raise NotAnExpression(
                    f"not a search expression at {at}: {expression[at : at + 20]!r}"
                )
            break
        at = match.end()
        word, _, _, _, and_ = match.groups()
        if and_ is not None:
            return None
        if word is not None:
            words.append(word.replace('""', '"'))
    return words
