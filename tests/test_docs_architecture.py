"""docs/architecture.md names only modules and classes that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()


def test_every_module_named_exists() -> None:
    paths = set(re.findall(r"`((?:server|slides|clients)/[\w/.]*)`", DOC))
    assert len(paths) > 15
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing


def test_every_method_named_exists() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "server").rglob("*.py"))
    for owner, method in set(re.findall(r"`(\w+)\.(\w+)`", DOC)):
        assert re.search(rf"class {owner}\b", source), owner
        assert re.search(rf"def {method}\b", source), f"{owner}.{method}"
