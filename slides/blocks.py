"""A slide's top-level markdown blocks and what the parser reads from them: kind, text, tasks."""

from __future__ import annotations

import re
from collections.abc import Iterable

from markdown_it.token import Token

from slides.model import SlideKind
from slides.render import asset_url

_TASK = re.compile(r"^\[([ xX])\]\s+(.*)$", re.DOTALL)
_HIDDEN_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)
_HIDDEN_CLOSE = re.compile(r"</(script|style)\b", re.IGNORECASE)

TaskItem = tuple[int, str, bool]  # (line, text, checked)


def inline_text(token: Token) -> str:
    """The words of one inline token, without markup (nor a raw `<script>`'s or `<style>`'s)."""
    if "<" in token.content:
        return _inline_text_with_html(token)
    words: list[str] = []
    for child in token.children or ():
        kind = child.type
        if kind in ("text", "code_inline", "image"):
            words.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            words.append(" ")
        elif kind == "math_inline":
            words.append(f"${child.content}$")
    return "".join(words).strip()


def _inline_text_with_html(token: Token) -> str:
    # As inline_text, and the text inside a raw <script> or <style> is left out: the
    # sanitiser drops those two with their content, so the plain text does too.
    words: list[str] = []
    hidden = False
    for child in token.children or ():
        kind = child.type
        if kind == "html_inline":
            if _HIDDEN_OPEN.match(child.content):
                hidden = True
            elif _HIDDEN_CLOSE.match(child.content):
                hidden = False
        elif hidden:
            continue
        elif kind in ("text", "code_inline", "image"):
            words.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            words.append(" ")
        elif kind == "math_inline":
            words.append(f"${child.content}$")
    return "".join(words).strip()


class Block:
    """A top-level markdown block: its tokens, its 1-based first line, and facts read once."""

    __slots__ = ("_tasks", "_tasks_known", "_texts", "inlines", "line", "tag", "tokens", "type")

    def __init__(self, first: Token, line: int) -> None:
        self.tokens = [first]
        self.line = line
        self.type = first.type.removesuffix("_open")
        self.tag = first.tag
        self.inlines: list[Token] = []
        self._texts: list[str] | None = None
        self._tasks: list[TaskItem] | None = None
        self._tasks_known = False

    @property
    def texts(self) -> list[str]:
        """The plain text of each inline token, in order (empty ones included)."""
        if self._texts is None:
            self._texts = [inline_text(token) for token in self.inlines]
        return self._texts

    @property
    def text(self) -> str:
        """The block's words without markup, one inline run per line."""
        return "\n".join(part for part in self.texts if part)

    def inline_children(self) -> list[Token]:
        """The inline tokens of a block with exactly one inline run, else nothing."""
        return list(self.inlines[0].children or ()) if len(self.inlines) == 1 else []

    def task_items(self) -> list[TaskItem] | None:
        """(line, text, checked) per item if every item of this bullet list is a task item."""
        # Asked for while choosing the kind and again by the poll: work it out once.
        if not self._tasks_known:
            self._tasks, self._tasks_known = _task_items(self), True
        return self._tasks


def to_blocks(tokens: Iterable[Token], first_line: int, asset_prefix: str) -> list[Block]:
    """Group a slide's tokens by top-level block; relative image sources point at the assets."""
    blocks: list[Block] = []
    current: Block | None = None
    for token in tokens:
        if token.level == 0 and token.nesting >= 0:
            current = Block(token, first_line + (token.map[0] if token.map else 0))
            blocks.append(current)
            continue
        if current is None:
            continue
        current.tokens.append(token)
        if token.type == "inline":
            current.inlines.append(token)
            for child in token.children or ():
                if child.type == "image":
                    child.attrSet("src", asset_url(str(child.attrGet("src") or ""), asset_prefix))
    return blocks


def all_tokens(blocks: Iterable[Block]) -> list[Token]:
    return [token for block in blocks for token in block.tokens]


def joined_text(blocks: Iterable[Block]) -> str:
    """The words of several blocks, one inline run per line."""
    return "\n".join(part for block in blocks for part in block.texts if part)


def title(blocks: Iterable[Block]) -> str | None:
    """The text of the first heading, if any."""
    for block in blocks:
        if block.type == "heading":
            return block.text
    return None


def _task_items(block: Block) -> list[TaskItem] | None:
    items: list[TaskItem] = []
    depth = 0
    texts = iter(block.texts)
    first_map = (block.tokens[0].map or [0])[0]
    for token in block.tokens:
        kind = token.type
        if kind == "list_item_open":
            depth += 1
        elif kind == "list_item_close":
            depth -= 1
        elif kind == "inline":
            text = next(texts)
            if depth != 1 or token.level != 3:
                continue
            match = _TASK.match(token.content)
            if not match:
                return None
            line = block.line + (token.map[0] if token.map else 0) - first_map
            # The option as plain text, like the question: `**Red**` is shown as "Red".
            words = _TASK.match(text) or match
            items.append((line, " ".join(words.group(2).split()), match.group(1) != " "))
    return items or None


def _is_only(block: Block, child_type: str) -> bool:
    """True when a paragraph holds just one link (or image) and nothing else but spaces."""
    children = [
        c for c in block.inline_children() if not (c.type == "text" and not c.content.strip())
    ]
    if child_type == "image":
        return len(children) == 1 and children[0].type == "image"
    return (
        len(children) >= 2
        and children[0].type == "link_open"
        and children[-1].type == "link_close"
        and sum(c.type == "link_open" for c in children) == 1
    )


def infer_kind(blocks: list[Block], polls: bool = True) -> SlideKind:
    """Choose a slide kind from its content when no layout is given.

    `polls=False`: a task list is a plain list (a deck written for a tool without polls).
    """
    types = [b.type for b in blocks]
    body = [b for b in blocks if b.type != "heading"]
    body_types = [b.type for b in body]
    if polls and any(b.type == "bullet_list" and b.task_items() for b in blocks):
        return SlideKind.POLL
    if not body:
        return SlideKind.TITLE
    if len(body) == 1 and body[0].type == "paragraph":
        if _is_only(body[0], "image"):
            return SlideKind.IMAGE
        if _is_only(body[0], "link"):
            return SlideKind.LINK
    if body_types[0] == "blockquote" and all(t == "paragraph" for t in body_types[1:]):
        return SlideKind.QUOTE
    if body_types == ["bullet_list"]:
        return SlideKind.BULLETS
    if body_types == ["ordered_list"]:
        return SlideKind.NUMBERED
    if "heading" not in types and all(t == "paragraph" for t in types) and len(types) <= 3:
        return SlideKind.STATEMENT
    return SlideKind.CONTENT
