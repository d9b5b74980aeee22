"""The talk as a keepsake: one self-contained HTML file (every slide as shown, each poll with its
final results) that opens with no server, and the same printed to PDF by Debian's Chromium."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from server.pages import IMAGE_TYPES
from server.results import PollResult, Results, compute
from server.sqlite_store import SessionRow, SQLiteStore
from slides import Deck, DeckError, SlideKind, parse_deck

CLIENTS = Path(__file__).resolve().parent.parent / "clients"
CHROMIUM = "/usr/bin/chromium"

# The look of the slides (the clients' own CSS, inlined), laid out one slide per 16:9 page.
KEEPSAKE_CSS = """
body { background: var(--wash); margin: 0; }
.keepsake-head { padding: 2rem 3rem 0; }
.keepsake-head p { color: var(--muted); margin: 0.2rem 0; }
.page {
  box-sizing: border-box; width: min(100%, 1280px); aspect-ratio: 16 / 9; margin: 1.5rem auto;
  padding: 3rem 4rem; background: var(--paper); display: flex; flex-direction: column;
  justify-content: center; overflow: hidden; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15);
  font-size: 1.6rem; break-after: page;
}
.page .bars { list-style: none; padding: 0; margin: 0.6em 0; }
.page .bar-row { display: grid; grid-template-columns: 2em minmax(6em, 16em) 1fr 7em;
  gap: 0.6em; align-items: center; margin: 0.3em 0; }
.page .bar-track { display: block; height: 0.9em; background: var(--wash);
  border: 1px solid var(--line); border-radius: 0.3em; overflow: hidden; }
.page .bar-fill { display: block; height: 100%; background: var(--accent); }
.page .bar-row.correct .bar-fill { background: var(--good); }
.page .bar-row.correct .bar-label { color: var(--good); font-weight: 700; }
.page .bar-count { text-align: end; font-variant-numeric: tabular-nums; }
.page .cloud { list-style: none; padding: 0; margin: 0.6em 0; display: flex; flex-wrap: wrap;
  justify-content: center; align-items: baseline; gap: 0.2em 0.8em; line-height: 1.15; }
.page .cloud-word { color: var(--accent); font-weight: 700; overflow-wrap: anywhere; }
.page .cloud-count { font-size: 0.4em; color: var(--muted); font-weight: 400;
  vertical-align: super; }
.page .turnout, .page .poll-source { color: var(--muted); margin: 0.2em 0; font-size: 0.8em; }
.page .notes { margin-top: 1em; padding-top: 0.5em; border-top: 1px solid var(--line);
  font-size: 0.7em; color: var(--muted); white-space: pre-wrap; }
@page { size: 1280px 720px; margin: 0; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: var(--paper); }
  .keepsake-head { display: none; }
  .page { width: 1280px; height: 720px; margin: 0; box-shadow: none; }
}
@media (forced-colors: active) {
  .page .bar-fill { forced-color-adjust: none; background: CanvasText; }
}
"""


_ASSET_SRC = re.compile(r'src="/assets/([^"]+)"')


def inline_assets(markup: str, folder: Path) -> str:
    """The deck's own images (served at /assets/ during the talk) as data: URLs, so the
    keepsake shows them with no server. Only images inside the deck's folder, as the server."""
    root = folder.resolve()

    def replace(match: re.Match[str]) -> str:
        target = (root / html.unescape(match.group(1))).resolve()
        kind = IMAGE_TYPES.get(target.suffix.lower())
        if kind is None or not target.is_relative_to(root) or not target.is_file():
            return match.group(0)
        data = base64.b64encode(target.read_bytes()).decode("ascii")
        return f'src="data:{kind};base64,{data}"'

    return _ASSET_SRC.sub(replace, markup)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _letter(index: int) -> str:
    return chr(65 + index) if index < 26 else str(index + 1)


def _cloud_html(poll: PollResult) -> str:
    """A word cloud as the display drew it: each word sized by its count against the most sent
    one, in the results' order (no script: the size is in the markup). Words the
    presenter hid stay hidden."""
    shown = [option for option in poll.options if not option.hidden and option.votes > 0]
    top = max((option.votes for option in shown), default=1)
    words = []
    for option in shown:
        weight = option.votes / top
        words.append(
            f'<li class="cloud-word" style="font-size: {0.9 + 2.1 * weight:.2f}em">'
            f'<span class="cloud-text" dir="auto">{_e(option.text)}</span> '
            f'<bdi class="cloud-count">{option.votes}</bdi></li>'
        )
    if not words:
        return '<p class="turnout">No words.</p>'
    return f'<ul class="cloud" aria-label="Words">{"".join(words)}</ul>'


def _poll_html(poll: PollResult) -> str:
    rows = []
    for option in poll.options:
        if option.hidden:  # never shown in the room (hidden, unapproved, merged): not here
            continue
        name = f"{_letter(option.index)}" if poll.type == "choice" else ""
        correct = " correct" if option.correct else ""
        mark = " ✓" if option.correct else ""
        rows.append(
            f'<li class="bar-row{correct}"><span class="bar-letter">{_e(name)}</span>'
            f'<span class="bar-label" dir="auto">{_e(option.text)}{mark}</span>'
            f'<span class="bar-track" aria-hidden="true"><span class="bar-fill" '
            f'style="width: {option.percentage:.1f}%"></span></span>'
            f'<bdi class="bar-count">{option.votes} · {option.percentage:g}%</bdi></li>'
        )
    if poll.type == "words":
        parts = [_cloud_html(poll)]
    else:
        parts = [f'<ol class="bars" aria-label="Results">{"".join(rows)}</ol>']
    if poll.mean is not None:
        parts.append(f'<p class="summary">Mean {poll.mean:g} · median {poll.median:g}</p>')
    did = "answered" if poll.type in ("words", "text") else "voted"
    parts.append(
        f'<p class="turnout">{poll.voters} {did} · turnout {poll.turnout:g}% of participants</p>'
    )
    if poll.source:
        parts.append(f'<p class="poll-source">Source: <bdi>{_e(poll.source)}</bdi></p>')
    return "".join(parts)


def render(
    deck: Deck | None, results: Results, *, notes: bool = False, assets: Path | None = None
) -> str:
    """The keepsake as one HTML document: styles inline, no scripts, nothing fetched (the
    deck's images inlined from `assets`, its folder, when given)."""
    css = "\n".join(
        (CLIENTS / "shared" / name).read_text(encoding="utf-8")
        for name in ("base.css", "slide.css")
    )
    polls = {poll.id: poll for poll in results.polls}
    info = results.session
    title = info.title or "handsup"
    pages: list[str] = []
    for slide in deck.slides if deck is not None else []:
        body = []
        if slide.kind is SlideKind.POLL and slide.poll is not None:
            body.append(f'<h1 class="poll-question" dir="auto">{_e(slide.poll.question)}</h1>')
            result = polls.pop(slide.poll.id, None)
            body.append(_poll_html(result) if result else '<p class="turnout">No votes.</p>')
        else:
            # The deck's HTML, sanitised by the parser as for every screen.
            markup = inline_assets(slide.html, assets) if assets is not None else slide.html
            body.append(f'<div class="slide-html" dir="auto">{markup}</div>')
        if notes and slide.notes:
            body.append(f'<aside class="notes" dir="auto">{_e(slide.notes)}</aside>')
        pages.append(
            f'<section class="page slide kind-{slide.kind.value}" data-index="{slide.index}" '
            f'aria-label="Slide {slide.index + 1}">{"".join(body)}</section>'
        )
    for poll in polls.values():  # polls no longer in the deck keep their results
        pages.append(
            f'<section class="page slide kind-poll"><h1 class="poll-question" dir="auto">'
            f"{_e(poll.question)}</h1>{_poll_html(poll)}</section>"
        )
    when = info.started_at[:16].replace("T", " ")
    return (
        f'<!doctype html>\n<html lang="{_e(results.lang)}" dir="{_e(results.dir)}">\n<head>\n'
        '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, '
        f'initial-scale=1">\n<title>{_e(title)}</title>\n'
        f"<style>\n{css}\n{KEEPSAKE_CSS}\n</style>\n</head>\n<body>\n"
        f'<header class="keepsake-head"><h1 dir="auto">{_e(title)}</h1>'
        f"<p>{_e(when)} UTC · room {_e(info.room)} · {info.participants} participants</p>"
        f"</header>\n<main>\n" + "\n".join(pages) + "\n</main>\n</body>\n</html>\n"
    )


def keepsake(data_dir: Path, session_id: int | None, *, notes: bool = False) -> str:
    """The keepsake HTML of one session in a data folder (default: the newest)."""
    path = data_dir / "handsup.db"
    if not path.exists():
        raise LookupError(f"no handsup data in {data_dir}")
    store = SQLiteStore(path)
    try:
        row = next((r for r in store.sessions() if session_id in (None, r.id)), None)
        if row is None:
            raise LookupError(
                f"no session {session_id} in {data_dir}" if session_id else "no sessions"
            )
        return from_row(store, row, notes=notes)
    finally:
        store.close_reader()


def from_row(store: SQLiteStore, row: SessionRow, *, notes: bool = False) -> str:
    """The keepsake HTML of a stored session: its results over the deck it ran."""
    results = compute(store, row)
    try:
        deck: Deck | None = parse_deck(row.deck_text, row.deck_path)
    except DeckError:  # stored decks parsed when stored; a newer parser may disagree
        deck = None
    return render(deck, results, notes=notes, assets=Path(row.deck_path).parent)


def to_pdf(document: str, output: Path) -> None:
    """Print the keepsake through Debian's Chromium: one page per slide, backgrounds on."""
    browser = shutil.which("chromium") or CHROMIUM
    with tempfile.TemporaryDirectory(prefix="handsup-pdf-") as folder:
        page = Path(folder) / "keepsake.html"
        page.write_text(document, encoding="utf-8")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
             f"--user-data-dir={folder}/profile", f"--print-to-pdf={output.resolve()}",
             page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
