"""A replay as markdown: per trace, old and new answers side by side, then the totals."""

from __future__ import annotations

from collections.abc import Sequence

from bot.evaluation.replay import Replayed, Side


def _who(side: Side) -> str:
    who = f"{side.answerer} · {side.model}" if side.model else side.answerer
    return f"{who} (fell back: {side.fallback_reason})" if side.fallback_reason else who


def _tokens(side: Side) -> str:
    return (
        f"{side.input_tokens:,} in (cache write {side.cache_creation_input_tokens:,}, "
        f"read {side.cache_read_input_tokens:,}) · {side.output_tokens:,} out"
    )


def _ms(value: float) -> str:
    """A latency: one decimal under 10 ms (an offline answer takes a few), whole above."""
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def _cited(side: Side) -> str:
    return ", ".join(side.citations) or "none"


def _cell(text: str) -> str:
    """Table cells hold one line, and a `|` would end the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines()) or "> (empty)"


def _quotes(side: Side) -> list[str]:
    """The quotes an answer cites (for a stored answer, the opening of each turn it cited)."""
    return (
        [">", *(f"> {number}. {_cell(q)}" for number, q in enumerate(side.quotes, 1))]
        if (side.quotes)
        else []
    )


def _searches(side: Side) -> str:
    if not side.searches:
        return "none"
    return "; ".join(side.searches) + f" ({side.round_trips} requests)"


def _trace(number: int, r: Replayed) -> list[str]:
    where = r.episode or "the whole library"
    lines = [
        f"## {number}. Trace {r.trace_id} · {r.created_at:%Y-%m-%d %H:%M} UTC · {where}",
        "",
        f"**Question:** {_cell(r.question)}",
        "",
    ]
    if r.after is None:
        return [*lines, f"Not replayed: {r.problem}.", ""]
    before, after = r.before, r.after
    given = "the same" if r.same_passages else f"{len(after.passages)}, not the same as before"
    lines += [
        "| | before | now |",
        "| --- | --- | --- |",
        f"| answered by | {_cell(_who(before))} | {_cell(_who(after))} |",
        f"| tokens | {_tokens(before)} | {_tokens(after)} |",
        f"| latency | {_ms(before.latency_ms)} | {_ms(after.latency_ms)} |",
        f"| citations | {_cited(before)} | {_cited(after)} |",
        f"| passages given | {len(before.passages)} | {given} |",
        f"| searches | {_cell(_searches(before))} | {_cell(_searches(after))} |",
        "",
        "**Before:**",
        "",
        _quoted(before.text),
        *_quotes(before),
        "",
        "**Now:**",
        "",
        _quoted(after.text),
        *_quotes(after),
        "",
    ]
    return lines


def _total(sides: Sequence[Side]) -> tuple[int, int, float]:
    count = max(len(sides), 1)
    return (
        sum(
            s.input_tokens + s.cache_creation_input_tokens + s.cache_read_input_tokens
            for s in sides
        ),
        sum(s.output_tokens for s in sides),
        sum(s.latency_ms for s in sides) / count,
    )


def render(replayed: Sequence[Replayed]) -> str:
    """Every replayed trace, then the totals over those answered both times."""
    both = [r for r in replayed if r.after is not None]
    lines = [f"# Replay of {len(replayed)} answer(s)", ""]
    for number, r in enumerate(replayed, start=1):
        lines += _trace(number, r)
    before = _total([r.before for r in both])
    after = _total([r.after for r in both if r.after is not None])
    lines += [
        f"## Totals over {len(both)} answered both times",
        "",
        "| | before | now |",
        "| --- | --- | --- |",
        f"| input tokens (all, cached included) | {before[0]:,} | {after[0]:,} |",
        f"| output tokens | {before[1]:,} | {after[1]:,} |",
        f"| mean latency | {_ms(before[2])} | {_ms(after[2])} |",
    ]
    return "\n".join(lines)
