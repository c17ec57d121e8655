"""Claude's reply read as it streams: the answer's text passed on to the watcher as it is
written, each cited claim's markers the moment its block ends, so the person sees the same
text grow that the finished answer shows.

A reply that may still call tools (a round of the library tool loop) can start with a line
of its own ("Let me search the library.") before its call: there each text block is passed
on only once the next block turns out to be text too, or the reply ends without a call."""

from __future__ import annotations

from typing import Any

from anthropic.types import Message

from bot.answering import Watcher, tell
from bot.answering.claude.citations import ReplyReader


class _Shown:
    """Passes the text so far to the watcher when it has changed."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher
        self._text = ""

    def show(self, text: str) -> None:
        text = text.strip()
        if text and text != self._text:
            self._text = text
            tell(self._watcher, lambda w: w.writing(text))


def read_stream(
    stream: Any, reader: ReplyReader, watcher: Watcher | None, *, may_call_tools: bool
) -> Message:
    """Read a Messages API stream to its end, showing `watcher` the text as it comes;
    the final message. Errors in the stream propagate (the caller falls back)."""
    if watcher is None:
        return stream.get_final_message()  # type: ignore[no-any-return]
    shown = _Shown(watcher)
    done = ""  # the pieces of the text blocks finished so far
    writing = ""  # the text block being written
    calls = False  # a tool call came: the rest of this reply is not the answer
    for event in stream:
        kind = event.type
        if kind == "content_block_start":
            if event.content_block.type == "tool_use":
                calls = True
            elif may_call_tools and not calls:
                shown.show(done)  # the block before was not a line before a call
            writing = ""
        elif kind == "text":
            writing += event.text
            if not may_call_tools:
                # Trailing spaces wait: a marker may come before them at the block's end.
                shown.show(done + writing.rstrip())
        elif kind == "content_block_stop":
            done += reader.add(event.content_block)
            if not may_call_tools:
                shown.show(done)
    message: Message = stream.get_final_message()
    if may_call_tools and not calls and message.stop_reason != "tool_use":
        shown.show(done)
    return message
