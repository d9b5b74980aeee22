"""Reading a deck file from disk into the model, with problems as DeckError.

A Slidev deck may include other files (`src: ./pages/x.md`). They are read here, for the pure
parser, by a reader confined to the deck's folder: no path out of it (the parser refuses `..`
and URLs first; this also refuses symbolic links that lead out), nothing but regular files,
and at most MAX_INCLUDE_BYTES each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from slides import Deck, DeckError, Problem
from slides.includes import IncludeError
from slides.parser import decode_deck, parse_deck_source

# An included file is a few slides of markdown; anything this big is not one.
MAX_INCLUDE_BYTES = 1024 * 1024


@dataclass
class FolderReader:
    """Reads files inside one folder for `src:` includes, and remembers which it read."""

    root: Path
    read: set[Path] = field(default_factory=set)

    def __call__(self, relative: str) -> bytes:
        """The bytes of `relative` (a path inside the folder); IncludeError when refused."""
        parts = PurePosixPath(relative)
        if parts.is_absolute() or ".." in parts.parts or "\\" in relative:
            raise IncludeError(f"`{relative}` is outside the deck's folder")
        path = self.root / parts
        # Followed to its end, a symbolic link must still be inside the deck's folder (the
        # folder itself resolved too, so a deck reached through a link reads its own files).
        try:
            target, root = path.resolve(), self.root.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a loop of symbolic links
            raise IncludeError(f"`{relative}` cannot be followed (a loop of links?)") from None
        if not target.is_relative_to(root):
            raise IncludeError(f"`{relative}` leads outside the deck's folder (a symbolic link)")
        self.read.add(target)
        if not target.exists():
            raise IncludeError(f"`{relative}` not found in the deck's folder")
        # Only regular files: a FIFO or device would block or never end.
        if not target.is_file():
            raise IncludeError(f"`{relative}` is not a file")
        try:
            with open(target, "rb") as handle:
                data = handle.read(MAX_INCLUDE_BYTES + 1)
        except OSError as error:
            raise IncludeError(f"cannot read `{relative}`: {error.strerror}") from None
        if len(data) > MAX_INCLUDE_BYTES:
            raise IncludeError(
                f"`{relative}` is bigger than {MAX_INCLUDE_BYTES // 1024} KiB: not a deck's page"
            )
        return data


@dataclass
class DeckSource:
    """A parsed deck, the text to store (includes inline), and every file it was read from."""

    deck: Deck
    text: str
    files: frozenset[Path]


def read_deck_files(path: Path, reader: FolderReader | None = None) -> DeckSource:
    """Read and parse a deck file and the files it includes. Problems raise DeckError.

    Pass `reader` to learn which files were read even when the deck is refused.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DeckError(
            [Problem(str(path), 1, f"cannot read the deck: {error.strerror}")]
        ) from None
    text = decode_deck(data, str(path))
    reader = reader or FolderReader(path.resolve().parent)
    deck, stored = parse_deck_source(text, str(path), reader=reader)
    return DeckSource(deck, stored, frozenset(reader.read))


def read_deck(path: Path) -> tuple[Deck, str]:
    """Read and parse a deck file: the model and the text to store (its includes inline)."""
    source = read_deck_files(path)
    return source.deck, source.text


def load_deck(path: Path) -> Deck:
    """Read and parse a deck file; problems (including a missing file) raise DeckError."""
    return read_deck(path)[0]
