"""How tall the outbox's frame must be to show an email whole, worked out on the server.

A frame cannot grow to fit its document without a script, and the pages run none; so the page
gives the frame a height estimated from the email's HTML. The estimate is for the frame on a
laptop (our emails are a column at most 640 px wide, with 15 px type) and errs tall: a little
white space under the footer is better than an Excuse button cut off. On a phone the column is
narrower and the frame scrolls; the page also links the email on its own.
"""

from __future__ import annotations

import math
from html.parser import HTMLParser

LINE = 24  # px: 15 px type at line-height 1.5, rounded up
CHARS_PER_LINE = 60  # a 600 px text column holds ~75 characters of 15 px type; fewer errs tall
BLOCK_GAP = 14  # px: the margins and padding around a paragraph, a heading, a row
CHROME = 160  # px: the email's outer padding, its card's border and padding, the frame's border
BUTTON = 20  # px: a link drawn as a button (padding above and below its line)
MIN_HEIGHT, MAX_HEIGHT = 240, 4000  # an empty email still shows as a frame; a huge one scrolls

BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "li", "tr", "div", "pre", "table", "ul", "ol", "blockquote"})
HIDDEN = frozenset({"head", "title", "style", "script"})


class _Layout(HTMLParser):
    """Adds up the email's blocks: each holds its text in lines of CHARS_PER_LINE characters.

    Whitespace collapses as a browser collapses it (the template's indentation is no line),
    except inside <pre> or an element styled `white-space:pre…` (a plan's own line breaks)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.height = 0
        self._text: list[str] = []
        self._hidden = 0
        self._pre: list[str] = []  # the open elements that keep line breaks, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        style = (dict(attrs).get("style") or "").replace(" ", "")
        if tag in HIDDEN:
            self._hidden += 1
        elif tag in BLOCKS:
            self._end_block()
        if tag == "br":
            self._text.append("\n")
        elif tag == "a" and "padding" in style:
            self.height += BUTTON
        if tag == "pre" or "white-space:pre" in style:
            self._pre.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in BLOCKS:
            self._end_block()
        if self._pre and self._pre[-1] == tag:
            self._pre.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._text.append(data if self._pre else " ".join(data.split()) + (" " if data[-1:].isspace() else ""))

    def _end_block(self) -> None:
        text = "".join(self._text).strip()
        self._text = []
        if text:
            lines = sum(max(1, math.ceil(len(line.strip()) / CHARS_PER_LINE)) for line in text.splitlines())
            self.height += lines * LINE + BLOCK_GAP


def frame_height(html: str) -> int:
    """The frame's height in px for this email's HTML: its estimated height, within bounds."""
    layout = _Layout()
    layout.feed(html)
    layout.close()
    layout._end_block()
    return max(MIN_HEIGHT, min(MAX_HEIGHT, CHROME + layout.height))
