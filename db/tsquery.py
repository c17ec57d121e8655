"""The search expressions retrieval builds, as PostgreSQL's tsquery text: the same grammar
FTS5 reads (quoted words, OR, AND, parentheses), and nothing else, so no text a person typed
reaches the query parser unquoted."""

from __future__ import annotations

import re
from collections.abc import Iterator

# What retrieval writes: a quoted word ("" inside is a quote), a parenthesis, OR or AND.
TOKEN = re.compile(r'\s*(?:"((?:[^"]|"")*)"|(\()|(\))|(OR)\b|(AND)\b)')
OPERATORS = {"(": "(", ")": ")", "OR": "|", "AND": "&"}


class NotAnExpression(ValueError):
    """Text that is not a search expression retrieval builds."""


def _tokens(expression: str) -> Iterator[tuple[str | None, str | None]]:
    """(word, None) or (None, operator) for each token of a search expression; raises
    NotAnExpression at anything retrieval does not write."""
    at = 0
    while at < len(expression):
        match = TOKEN.match(expression, at)
        if match is None or match.end() == at:
            if expression[at:].strip():
                raise NotAnExpression(
                    f"not a search expression at {at}: {expression[at : at + 20]!r}"
                )
            return
        at = match.end()
        word, *operators = match.groups()
        if word is not None:
            yield word.replace('""', '"'), None
        else:
            yield None, next(o for o in operators if o is not None)


def tsquery(expression: str) -> str:
    """`("pricing" OR "price") AND "churn"` -> `( 'pricing' | 'price' ) & 'churn'`: each
    word a quoted lexeme the configuration stems, each operator PostgreSQL's."""
    out: list[str] = []
    for word, operator in _tokens(expression):
        if word is not None:
            out.append("'" + word.replace("\\", "\\\\").replace("'", "''") + "'")
        else:
            out.append(OPERATORS[str(operator)])
    return " ".join(out)


def any_of_words(expression: str) -> list[str] | None:
    """The words of an expression that only ORs words together (`("price" OR "pricing")`),
    or None when it says more (an AND): such a match is any of their stems."""
    tokens = list(_tokens(expression))
    if any(operator == "AND" for _, operator in tokens):
        return None
    return [word for word, _ in tokens if word is not None]
