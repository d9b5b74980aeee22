"""The data notice and what people can take back: the notice a phone is shown, deleting what one
typed (in the session and in the stored log), and pruning sessions past their retention."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server.codec import decode, encode
from server.commands import Ask, Forget, Join, Upvote, Vote
from server.privacy import DAY, notice, prune
from server.session import Session
from server.sqlite_store import SQLiteStore
from server.store import MemoryStore
from slides import parse_deck
from tests.serverproc import start_server
from tests.test_room import KEY, connect, send, until
from tests.test_room_qa import latest, make_room

DECK = """\
---
qa: {moderation: after}
retention: 30d
privacy: Run by the Digital Team; questions may be quoted in our report.
---

# Welcome

---
poll:
  id: wall
  type: text
  answers: 3
---

# One idea?

---
poll:
  id: cloud
  type: words
  entries: 2
---

# One word?
"""


def test_the_notice_says_what_is_kept_who_sees_it_and_how_long() -> None:
    meta = parse_deck(DECK).meta
    said = notice(meta)
    for fact in ("random token", "anything you type", "presenter sees all", "30 days", "delete"):
        assert fact in said
    assert meta.privacy == "Run by the Digital Team; questions may be quoted in our report."
    # Without being asked: a deck with no privacy settings still tells people.
    assert "until they delete it" in notice(parse_deck("# Hi\n").meta)


def test_a_retention_that_is_not_days_or_weeks_is_an_error() -> None:
    with pytest.raises(Exception, match="retention"):
        parse_deck("---\nretention: forever\n---\n\n# Hi\n")


def talk() -> Session:
    session = Session(parse_deck(DECK))
    for who in ("ann", "bob"):
        session.apply(Join(who))
    return session


def test_forgetting_deletes_what_one_typed_and_nothing_of_anyone_else() -> None:
    session = talk()
    session._replaying = True  # answers without opening the polls: the rules are tested elsewhere
    commands = [
        Vote("ann", "wall", "Ann's idea", "v1", 1.0),
        Vote("bob", "wall", "Bob's idea", "v2", 1.0),
        Vote("ann", "cloud", ["trust", "ann-only"], "v3", 1.0),
        Vote("bob", "cloud", ["trust"], "v4", 1.0),
        Ask("ann", "k1", "Ann asks", "Ann", 2.0),
        Ask("bob", "k2", "Bob asks", None, 2.0),
        Upvote("bob", "q1", True),
        Upvote("ann", "q2", True),
    ]
    for command in commands:
        session.apply(command)
    session._replaying = False
    session.apply(Forget("ann"))
    wall = session.polls["wall"].answers
    assert [r.text for r in wall.rows()] == ["Bob's idea"]
    assert wall.mine("ann") is None
    assert [(r.text, r.count) for r in session.polls["cloud"].answers.rows()] == [("trust", 1)]
    assert [q.text for q in session.qa.ranked()] == ["Bob asks"]
    assert session.qa.ranked()[0].votes == 1, "ann's upvote is not typed: it stays"
    assert session.qa.upvoted_by("bob") == []
    # Bob's later question keeps its id.
    assert session.qa.ranked()[0].id == "q2"


async def test_a_phone_deletes_what_it_typed_and_the_log_keeps_no_trace() -> None:
    store = MemoryStore()
    room = make_room(store, deck=DECK)
    boss, _ = connect(room, "presenter", key=KEY)
    ann, ann_link = connect(room, "audience", room="ROOM1")
    bob, bob_link = connect(room, "audience", room="ROOM1")
    send(room, boss, {"type": "goto", "index": 1})
    send(room, boss, {"type": "open"})
    send(room, ann, {"type": "answer", "poll": "wall", "answer": "My secret idea", "vote_id": "v1"})
    send(room, ann, {"type": "ask", "text": "My secret question", "name": "Ann", "ask_id": "k1"})
    send(room, bob, {"type": "ask", "text": "Bob's question", "ask_id": "k2"})
    send(room, bob, {"type": "upvote", "question": "q1"})
    await until(ann_link, lambda: bool(ann_link.messages("ask_ack")))
    state = ann_link.messages("state")[-1]["state"]
    assert "30 days" in state["privacy"]["notice"] and state["privacy"]["retention_days"] == 30
    send(room, ann, {"type": "forget_me"})
    await until(ann_link, lambda: bool(ann_link.messages("forgotten")))
    await until(bob_link, lambda: latest(bob_link, "my_questions").get("upvoted") == [])
    assert "secret" not in repr(store.log)
    # A replay of the log gives the same talk: Bob's question is still q2, Ann's texts gone.
    again = Session(parse_deck(DECK))
    again.restore(decode(*encode(c)) for c in store.log)
    assert [(q.id, q.text) for q in again.qa.ranked()] == [("q2", "Bob's question")]
    assert again.polls["wall"].answers.rows() == []
    _, back = connect(room, "audience", room="ROOM1", participant=ann.participant)
    assert back.messages("welcome")[0]["votes"] == {}
    assert latest(back, "my_questions")["asked"] == []


async def test_the_stored_log_is_overwritten_too(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "handsup.db")
    store.start("deck.md", DECK, None, "ROOM1", KEY)
    commands = [Join("ann"), Ask("ann", "k1", "Delete me", "Ann", 1.0), Forget("ann")]
    await store.record(commands)
    store.redact("ann")
    await store.close()
    text = (tmp_path / "handsup.db").read_bytes()
    assert b"Delete me" not in text
    reader = SQLiteStore(tmp_path / "handsup.db")
    again = Session(parse_deck(DECK))
    assert again.restore(reader.commands(1)) == 0
    assert again.qa.questions["q1"].text == ""
    reader.close_reader()


def test_prune_deletes_only_sessions_past_their_retention(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data / "handsup.db")
    old = store.start("old.md", DECK, "Old talk", "ROOM1", KEY)
    store.start("new.md", DECK, "New talk", "ROOM2", KEY)
    store.start("kept.md", "# No retention\n", "Kept", "ROOM3", KEY)
    store._read.execute(
        "UPDATE sessions SET started_at=? WHERE id IN (?, 3)", (time.time() - 31 * DAY, old)
    )
    asyncio.run(_log(store, old))
    store.close_reader()
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "prune", "--data", str(data)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "deleted session 1: Old talk" in result.stdout
    reader = SQLiteStore(data / "handsup.db")
    assert [row.title for row in reader.sessions()] == ["Kept", "New talk"]
    assert reader.commands(old) == []
    reader.close_reader()
    assert prune(data, time.time()) == []


def test_serve_says_at_start_when_sessions_are_past_their_retention(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = SQLiteStore(data / "handsup.db")
    store.start("old.md", DECK, "Old talk", "ROOM1", KEY)
    store._read.execute("UPDATE sessions SET started_at=?, ended_at=?", (1.0, 2.0))
    store.close_reader()
    server = start_server(data=data)
    try:
        assert server.retention is not None
        assert server.retention.startswith("1 session is past its retention")
        assert f"handsup prune --data {data}" in server.retention
    finally:
        server.stop()


async def _log(store: SQLiteStore, session: int) -> None:
    store.session_id = session
    await store.record([Join("ann"), Ask("ann", "k1", "Old question", None, 1.0)])
    await store.close()
