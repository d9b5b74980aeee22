"""docs/deployment.md shows what `handsup deploy nginx` prints, and nginx takes all of it.

Convention: an `nginx` block is what the nearest `handsup deploy nginx` command above it prints
(in a `sh` block, or named in an HTML comment `<!-- checked against: handsup deploy nginx … -->`).
A block that starts as a whole file does (`# handsup behind nginx`) is all of it, exactly;
any other block is an excerpt: its lines appear in the output in the same order.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
from pathlib import Path

from server.cli import main
from tests.nginxproc import check

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deployment.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
_COMMENT = re.compile(r"<!-- checked against: (handsup deploy nginx[^>]*?) -->")


def _commands(text: str) -> list[str]:
    """`handsup deploy nginx …` lines in a shell block, without a redirection."""
    return [
        line.partition(">")[0].strip()
        for line in text.splitlines()
        if line.startswith("handsup deploy nginx")
    ]


def _examples() -> list[tuple[str, str, int]]:
    """(command, nginx block, line) for every nginx block in the page."""
    doc = DOC.read_text()
    found: list[tuple[str, str, int]] = []
    command: str | None = None
    position = 0
    for block in _BLOCK.finditer(doc):
        between = doc[position : block.start()]
        position = block.end()
        for named in _COMMENT.findall(between):
            command = named
        info, body = block.groups()
        if info == "sh" and _commands(body):
            command = _commands(body)[-1]
        elif info == "nginx":
            line = doc.count("\n", 0, block.start()) + 1
            assert command is not None, f"docs/deployment.md:{line}: no command above"
            found.append((command, body, line))
    return found


def _printed(command: str) -> str:
    words = shlex.split(command)
    assert words[:3] == ["handsup", "deploy", "nginx"], command
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(words[1:]) == 0, command
    return out.getvalue()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _in_order(excerpt: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(any(line == other for other in rest) for line in excerpt)


def test_every_nginx_block_is_what_its_command_prints() -> None:
    examples = _examples()
    assert len(examples) >= 4
    for command, block, line in examples:
        printed = _printed(command)
        if block.startswith("# handsup behind nginx"):
            assert block == printed, f"docs/deployment.md:{line}: `{command}` prints otherwise"
        else:
            assert _in_order(_lines(block), _lines(printed)), (
                f"docs/deployment.md:{line}: not in what `{command}` prints"
            )


def test_nginx_takes_every_configuration_on_the_page(tmp_path: Path) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=talk.example.org", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    doc = DOC.read_text()
    commands = {c for info, body in _BLOCK.findall(doc) if info == "sh" for c in _commands(body)}
    assert len(commands) >= 4
    for command in sorted(commands):
        config = _printed(command)
        # The page's certificate paths exist on the server it describes, not here.
        config = re.sub(r"ssl_certificate /\S+;", f"ssl_certificate {certificate};", config)
        config = re.sub(r"ssl_certificate_key /\S+;", f"ssl_certificate_key {key};", config)
        if "--http-only" in command:
            config = (
                "pid nginx.pid;\nerror_log error.log;\nevents {}\nhttp {\n"
                + "".join(
                    f"{kind}_temp_path {kind}_temp;\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
                )
                + config.replace("/var/log/nginx/handsup-access.log", "access.log")
                + "}\n"
            )
        verdict = check(config)
        assert verdict.returncode == 0, (command, verdict.stderr)
