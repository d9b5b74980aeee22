"""The `handsup` command line: check a deck, serve it, print the wire schema."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from server.deckfile import load_deck
from server.settings import LIMIT_FLAGS, Settings
from slides import Deck, DeckError, Problem


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


def problems_json(error: DeckError) -> dict[str, object]:
    """A refused deck as `check --json` prints it, for editors: each problem's line and text."""

    def entries(problems: list[Problem]) -> list[dict[str, object]]:
        return [
            {"file": p.file, "line": p.line, "message": p.message.removeprefix("warning: ")}
            for p in problems
        ]

    return {"errors": entries(error.problems), "warnings": entries(error.warnings)}


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a deck and list its slides (or print it as JSON)."""
    try:
        deck = load_deck(Path(args.deck))
    except DeckError as error:
        for problem in error.warnings:
            print(problem, file=sys.stderr)
        print(error, file=sys.stderr)
        if args.json:
            print(json.dumps(problems_json(error), indent=2, ensure_ascii=False))
        return 1
    for warning in deck.warnings:
        print(warning, file=sys.stderr)
    if args.json:
        print(json.dumps(deck_json(deck), indent=2, ensure_ascii=False))
    else:
        title = deck.meta.title or args.deck
        print(f"{title}: {deck.summary()}")
        print(_summary(deck))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of every websocket message."""
    from server.protocol import schema

    print(json.dumps(schema(), indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write one session's results from a data folder."""
    from server.results import CSV_TABLES, load, to_csv

    if args.format in ("html", "pdf"):
        return _export_keepsake(args)
    try:
        results = load(Path(args.data), args.session)
    except LookupError as error:
        print(f"handsup export: {error.args[0]}", file=sys.stderr)
        return 1
    if args.format == "csv":
        text = to_csv(results)
    elif args.format in ("votes-csv", "questions-csv"):
        text = CSV_TABLES[args.format.replace("-", ".")](results)
    else:
        text = results.model_dump_json(indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    """Delete the sessions in a data folder that are past their deck's retention."""
    import time

    from server.privacy import prune

    try:
        gone = prune(Path(args.data), time.time())
    except LookupError as error:
        print(f"handsup prune: {error.args[0]}", file=sys.stderr)
        return 1
    for row in gone:
        print(f"deleted session {row.id}: {row.title or row.deck_path}")
    print(f"{len(gone)} session{'s' if len(gone) != 1 else ''} past retention deleted")
    return 0


def _export_keepsake(args: argparse.Namespace) -> int:
    from server.export_html import keepsake, to_pdf

    try:
        document = keepsake(Path(args.data), args.session, notes=args.notes)
    except LookupError as error:
        print(f"handsup export: {error.args[0]}", file=sys.stderr)
        return 1
    if args.format == "pdf":
        if not args.output:
            print("handsup export: --format pdf needs -o FILE", file=sys.stderr)
            return 2
        to_pdf(document, Path(args.output))
    elif args.output:
        Path(args.output).write_text(document, encoding="utf-8")
    else:
        sys.stdout.write(document)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a deck: parse it, bind the port, print the three URLs, run until interrupted."""
    from server.serve import serve

    return serve(args)


def _version() -> str:
    try:
        return importlib.metadata.version("handsup")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


class ShowDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` that says every option's default: argparse's "(default: …)", unless the help
    already says it in words (an environment variable, a value worked out at start)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if not text or "default" in text or not action.option_strings:
            return text
        # A flag is off unless given, and None means "not set": nothing worth saying.
        if action.default in (None, False, argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """Every `handsup` parser: subcommands take their parent's class, so they show defaults too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ShowDefaults)
        super().__init__(*args, **kwargs)


def _say_limit_defaults(group: argparse._ArgumentGroup) -> None:
    """The limits' defaults live in Settings (the flags default to None: "not given")."""
    for action in group._group_actions:
        setting = LIMIT_FLAGS.get(action.dest)
        if setting and action.help and "default" not in action.help:
            value = Settings.model_fields[setting].default
            action.help += f" (default: {value:g})"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = Parser(prog="handsup", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate a deck and list its slides")
    check.add_argument("deck", help="path to the deck (markdown)")
    check.add_argument("--json", action="store_true", help="print the parsed deck as JSON")
    check.set_defaults(func=cmd_check)

    serve = sub.add_parser("serve", help="serve a deck to a presenter, a projector and phones")
    serve.add_argument("deck", help="path to the deck (markdown)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.add_argument(
        "--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)"
    )
    serve.add_argument("--public-url", help="base URL phones should use (proxy or tunnel)")
    serve.add_argument(
        "--presenter-key",
        default=os.environ.get("HANDSUP_PRESENTER_KEY"),
        help="presenter key (default: $HANDSUP_PRESENTER_KEY, else random per run)",
    )
    serve.add_argument(
        "--moderator-key",
        default=os.environ.get("HANDSUP_MODERATOR_KEY"),
        help="moderator key (default: $HANDSUP_MODERATOR_KEY, else derived from the presenter key)",
    )
    serve.add_argument("--room", help="room code for a new session (default: random)")
    serve.add_argument(
        "--data", help="folder for the SQLite file (default: handsup-data/ beside the deck)"
    )
    serve.add_argument(
        "--new-session",
        action="store_true",
        help="start a new session instead of resuming (the old one keeps its results)",
    )
    serve.add_argument("--no-watch", action="store_true", help="do not reload the deck on save")
    serve.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("HANDSUP_REDIS_URL"),
        help="share one session with every worker using this Redis, e.g. redis://HOST:6379/0 "
        "(default: $HANDSUP_REDIS_URL, which keeps a password out of the process list; "
        "see docs/scaling.md)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on this port (default 1); without --redis, more than one "
        "starts a private redis-server with its data under --data",
    )
    # Set by `--workers` for the processes it starts: which one, and the socket to share.
    serve.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    limits = serve.add_argument_group("limits (defaults suit a hall of thousands)")
    limits.add_argument("--max-frame", type=int, help="largest frame a phone may send, bytes")
    limits.add_argument("--rate", type=float, help="messages per second per connection")
    limits.add_argument("--burst", type=float, help="burst of messages per connection")
    limits.add_argument("--text-rate", type=float, help="text answers per second per phone")
    limits.add_argument("--text-burst", type=float, help="burst of text answers per phone")
    limits.add_argument(
        "--max-connections",
        type=int,
        help="connections in total (default: 19000, or what the open-file limit allows)",
    )
    limits.add_argument("--max-per-address", type=int, help="connections from one address")
    limits.add_argument("--max-displays", type=int, help="display screens at once")
    limits.add_argument("--max-header", type=int, help="bytes of an HTTP request line and headers")
    limits.add_argument(
        "--header-timeout", type=float, help="seconds for a request's headers to arrive"
    )
    limits.add_argument("--connect-rate", type=float, help="new connections per second per address")
    limits.add_argument("--connect-burst", type=float, help="new connections at once per address")
    limits.add_argument(
        "--stuck-after", type=float, help="drop a phone not reading for this long, s"
    )
    limits.add_argument(
        "--keepalive", type=float, help="ping a silent phone after this long, s (drop: 3x; 0: off)"
    )
    _say_limit_defaults(limits)
    serve.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        help="reverse proxies whose X-Forwarded-For names the client, comma-separated "
        "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1)",
    )
    serve.add_argument(
        "--log-level", default="warning", help="uvicorn log level (default: warning)"
    )
    # How often the terminal may say who is connected; hidden: tests shorten it.
    serve.add_argument("--presence-every", type=float, default=30.0, help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    export = sub.add_parser(
        "export", help="write a session's results (CSV, JSON) or the talk as a keepsake (HTML, PDF)"
    )
    export.add_argument("--data", required=True, help="the data folder (holds handsup.db)")
    export.add_argument("--session", type=int, help="session id (default: the newest)")
    export.add_argument(
        "--format",
        choices=["csv", "votes-csv", "questions-csv", "json", "html", "pdf"],
        default="csv",
        help="csv: one row per poll option, with the poll's turnout, mean and median; "
        "votes-csv: each person's final answer, anonymised; questions-csv: the questions from the "
        "room; json: all three; html: the talk as a "
        "keepsake, one file that opens with no server; pdf: the same, a page per slide "
        "(default: csv)",
    )
    export.add_argument("--notes", action="store_true", help="html, pdf: include the speaker notes")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)

    prune = sub.add_parser("prune", help="delete sessions past their deck's `retention:`")
    prune.add_argument("--data", required=True, help="the data folder (holds handsup.db)")
    prune.set_defaults(func=cmd_prune)

    schema = sub.add_parser("schema", help="print the JSON Schema of every websocket message")
    schema.set_defaults(func=cmd_schema)

    from server.bench.cli import add_parser as add_bench
    from server.deploy import add_parser as add_deploy

    add_bench(sub)
    add_deploy(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `handsup` console script."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what `--workers` passes on
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
