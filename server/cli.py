"""The `handsup` command line: check a deck, serve it, print the wire schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from slides import Deck, DeckError, Problem
from slides.parser import decode_deck, parse_deck


def load_deck(path: Path) -> Deck:
    """Read and parse a deck file; problems (including a missing file) raise DeckError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DeckError(
            [Problem(str(path), 1, f"cannot read the deck: {error.strerror}")]
        ) from None
    return parse_deck(decode_deck(data, str(path)), str(path))


def _summary(deck: Deck) -> str:
    lines = []
    for slide in deck.slides:
        label = slide.title or slide.text.split("\n")[0] or ""
        if len(label) > 60:
            label = label[:59] + "…"
        lines.append(f"{slide.index + 1:>3}  {slide.kind.value:<9}  {label}")
    return "\n".join(lines)


def deck_json(deck: Deck) -> dict[str, object]:
    """The deck as `check --json` prints it: metadata and slides."""
    return {"meta": deck.meta.model_dump(), **deck.model_dump(include={"slides", "warnings"})}


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a deck and list its slides (or print it as JSON)."""
    try:
        deck = load_deck(Path(args.deck))
    except DeckError as error:
        print(error, file=sys.stderr)
        return 1
    for warning in deck.warnings:
        print(warning, file=sys.stderr)
    if args.json:
        print(json.dumps(deck_json(deck), indent=2, ensure_ascii=False))
    else:
        polls = sum(1 for slide in deck.slides if slide.poll)
        title = deck.meta.title or args.deck
        print(f"{title}: {len(deck.slides)} slides, {polls} polls")
        print(_summary(deck))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="handsup", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a deck and list its slides")
    check.add_argument("deck", help="path to the deck (markdown)")
    check.add_argument("--json", action="store_true", help="print the parsed deck as JSON")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `handsup` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
