"""Results to take home: the HTTP exports and `handsup export` agree with the votes cast."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.serverproc import ServerProcess, start_server
from tests.wsclient import Peer

QUIZ = Path(__file__).parent / "decks" / "quiz.md"
# (phone, poll, option) in the order cast; phone 0 changes its mind on "colour".
CAST = [(0, "colour", 0), (1, "colour", 1), (2, "colour", 1), (0, "colour", 1), (1, "locked", 0)]


async def cast_votes(server: ServerProcess) -> list[str]:
    boss = await Peer.open(server.ws, "presenter", key=server.key)
    phones = [await Peer.open(server.ws, "audience", room=server.room) for _ in range(3)]
    tokens = [(await p.of_type("welcome"))["participant"] for p in phones]
    for poll, slide in (("colour", 1), ("locked", 2)):
        await boss.send({"type": "goto", "index": slide})
        await boss.send({"type": "open"})
        await boss.until(
            lambda m, poll=poll: (
                m["type"] == "state"
                and (m["state"]["poll"] or {}).get("id") == poll
                and m["state"]["poll"]["status"] == "open"
            )
        )
        for phone, voted_poll, option in CAST:
            if voted_poll == poll:
                await phones[phone].vote(poll, option)
                await phones[phone].of_type("vote_ack")
    return tokens


def check_json(results: dict[str, object], tokens: list[str]) -> None:
    polls = {p["id"]: p for p in results["polls"]}  # type: ignore[attr-defined]
    colour = polls["colour"]
    assert [o["votes"] for o in colour["options"]] == [0, 3, 0]
    assert [o["percentage"] for o in colour["options"]] == [0.0, 100.0, 0.0]
    assert [o["correct"] for o in colour["options"]] == [False, True, False]
    assert colour["question"] == "Favourite colour?" and colour["source"] == "a test"
    assert colour["voters"] == 3 and colour["turnout"] == 100.0
    assert [o["votes"] for o in polls["locked"]["options"]] == [1, 0]
    votes = results["votes"]
    assert sorted((v["poll"], v["option"]) for v in votes) == sorted(  # type: ignore[attr-defined]
        [("colour", 1), ("colour", 1), ("colour", 1), ("locked", 0)]
    )
    people = {v["participant"] for v in votes}  # type: ignore[attr-defined]
    assert len(people) == 3 and not people & set(tokens), "anonymous, and one id per person"
    assert all(v["at"].endswith("+00:00") for v in votes)  # type: ignore[attr-defined]


def check_csv(text: str) -> None:
    """One table with one header: a spreadsheet reads every row under the same columns."""
    assert "\n\n" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert all(None not in row and None not in row.values() for row in rows)  # no ragged rows
    blue = next(r for r in rows if r["poll"] == "colour" and r["text"] == "Blue")
    assert (blue["votes"], blue["percentage"], blue["correct"]) == ("3", "100.0", "yes")
    assert (blue["voters"], blue["turnout"]) == ("3", "100.0")
    assert len(rows) == 5


def check_votes_csv(text: str) -> None:
    votes = list(csv.DictReader(io.StringIO(text)))
    assert len(votes) == 4 and {v["text"] for v in votes} == {"Blue", "Yes"}


async def test_exports_match_the_votes_cast(tmp_path: Path) -> None:
    server = start_server(QUIZ, data=tmp_path / "data")
    try:
        tokens = await cast_votes(server)
        async with httpx.AsyncClient(base_url=server.base) as http:
            assert (await http.get("/api/sessions")).status_code == 401
            assert (await http.get("/api/sessions", params={"key": "nope"})).status_code == 403
            assert (await http.get("/api/sessions/1/results.json")).status_code == 401
            assert (await http.get("/results", params={"key": ""})).status_code == 401
            key = {"key": server.key}
            sessions = (await http.get("/api/sessions", params=key)).json()
            assert [s["room"] for s in sessions] == [server.room]
            session = sessions[0]["id"]
            check_json(
                (await http.get(f"/api/sessions/{session}/results.json", params=key)).json(), tokens
            )
            answer = await http.get(f"/api/sessions/{session}/results.csv", params=key)
            assert answer.headers["content-type"].startswith("text/csv")
            check_csv(answer.text)
            answer = await http.get(f"/api/sessions/{session}/results.votes.csv", params=key)
            check_votes_csv(answer.text)
            assert (await http.get("/api/sessions/99/results.json", params=key)).status_code == 404
    finally:
        server.stop()

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", "export", "--data", str(tmp_path / "data"), *args],
            capture_output=True,
            text=True,
        )

    out = tmp_path / "results.json"
    assert export("--format", "json", "-o", str(out)).returncode == 0
    check_json(json.loads(out.read_text()), tokens)
    done = export("--format", "csv", "--session", "1")
    assert done.returncode == 0
    check_csv(done.stdout)
    done = export("--format", "votes-csv", "--session", "1")
    assert done.returncode == 0
    check_votes_csv(done.stdout)
    missing = export("--session", "42")
    assert missing.returncode == 1 and "no session 42" in missing.stderr
