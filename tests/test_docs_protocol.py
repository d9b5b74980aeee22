"""Every example in docs/protocol.md is a valid message, and every message type has one."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

from server.protocol import CLIENT_MESSAGE, SERVER_MESSAGE, ClientMessage, ServerMessage

DOC = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
FENCE = re.compile(r"```json\n(.*?)```", re.DOTALL)


def examples(section: str) -> list[dict[str, object]]:
    start = DOC.index(f"## {section}")
    end = DOC.find("\n## ", start + 1)
    return [json.loads(block) for block in FENCE.findall(DOC[start : end if end > 0 else None])]


def declared_types(union: object) -> set[str]:
    members = typing.get_args(typing.get_args(union)[0])
    return {
        value
        for model in members
        for value in typing.get_args(model.model_fields["type"].annotation)
    }


def test_client_examples_are_valid_and_complete() -> None:
    found = examples("Client → server")
    for example in found:
        CLIENT_MESSAGE.validate_python(example)
    assert {e["type"] for e in found} >= declared_types(ClientMessage) - {"close", "hide", "reset"}


def test_server_examples_are_valid_and_complete() -> None:
    found = examples("Server → client")
    for example in found:
        SERVER_MESSAGE.validate_python(example)
    assert {e["type"] for e in found} == declared_types(ServerMessage)


def test_error_codes_table_covers_the_codes_the_server_uses() -> None:
    root = Path(__file__).parent.parent / "server"
    used = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r'Refused\(\s*"([a-z_]+)"', text))
        used |= set(re.findall(r'_error\(\s*"([a-z_]+)"', text))
        used |= set(re.findall(r'Denied\(\s*\d+,\s*"([a-z_]+)"', text))
    assert used, "no codes found: the patterns no longer match the server"
    table = DOC[DOC.index("## Error codes") :]
    missing = {code for code in used if f"`{code}`" not in table}
    assert not missing
