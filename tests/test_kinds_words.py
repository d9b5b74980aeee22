"""Word cloud at the session level: normalising, counting, limits, resends, hiding, reloads."""

from __future__ import annotations

from server.commands import Moderate, TallyChanged, Vote, VoteCast
from slides import parse_deck
from tests.kindsdeck import KINDS_TEXT, answer, items, on_poll, refused, states

# Persian "I want" (mi-khaham), with the ZWNJ that keeps the prefix mi apart without a space.
WANT = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
ZWNJ = "\u200c"


def test_the_same_word_however_written_counts_together() -> None:
    people = ["ann", "bob", "cat", "dan", "eve", "fay"]
    session = on_poll("cloud", *people)
    spellings = [
        "Listening",
        "LISTENING",
        "".join(chr(ord(c) + 0xFEE0) for c in "listening"),  # full-width: NFKC undoes it
        "listen\u200bing",  # a zero-width space would hide it from the count and the filter
        "\u202elistening\u202c",  # a right-to-left override would make it read backwards
        "  listening\t",
    ]
    for person, spelling in zip(people, spellings, strict=True):
        answer(session, person, "cloud", [spelling])
    assert items(session, "cloud") == [("Listening", 6)], "shown as first written"
    assert session.polls["cloud"].answers.voters == 6


def test_spaces_collapse_and_case_folds_fully() -> None:
    session = on_poll("cloud", "ann", "bob", "cat", "dan")
    answer(session, "ann", "cloud", ["open   data"])
    answer(session, "bob", "cloud", ["\u00a0Open\u2003Data "])  # no-break and em spaces
    answer(session, "cat", "cloud", ["STRASSE"])
    answer(session, "dan", "cloud", ["straße"])  # case-folding, not just lower(): ß is ss
    assert items(session, "cloud") == [("open data", 2), ("STRASSE", 2)]
    assert session.polls["cloud"].answers.mine("bob") == ["Open Data"], "stored cleaned"


def test_joined_words_count_as_one_word_and_keep_their_joiners() -> None:
    people = ["ann", "bob", "cat", "dan", "eve", "fay"]
    session = on_poll("cloud", *people)
    answer(session, "ann", "cloud", ["👩\u200d💻", WANT])
    answer(session, "bob", "cloud", ["👩\u200d\u200d💻"])  # a doubled joiner: the same emoji
    answer(session, "cat", "cloud", ["\u200b" + WANT + "\u202c"])  # the same Persian word
    answer(session, "dan", "cloud", ["👩💻"])  # a woman and a laptop: two emoji, another word
    answer(session, "eve", "cloud", [WANT.replace(ZWNJ, "")])  # without it: written differently
    answer(session, "fay", "cloud", ["m\u200de"])  # a joiner in a Latin word only hides it
    assert items(session, "cloud") == [
        ("👩\u200d💻", 2),
        (WANT, 2),
        ("👩💻", 1),
        (WANT.replace(ZWNJ, ""), 1),
        ("me", 1),
    ]
    assert session.polls["cloud"].answers.mine("bob") == ["👩\u200d💻"], "stored cleaned"


def test_entries_per_participant_are_limited() -> None:
    session = on_poll("cloud")
    events = answer(session, "ann", "cloud", ["trust", "listening"])
    assert [type(e) for e in events] == [VoteCast, TallyChanged]
    assert events[0].answer == ["trust", "listening"]  # type: ignore[union-attr]
    refused(session, Vote("ann", "cloud", ["openness", "data"], "x1", 1.0), "too_many_entries")
    answer(session, "ann", "cloud", ["openness"])
    refused(session, Vote("ann", "cloud", ["one more"], "x2", 1.0), "too_many_entries")
    refused(session, Vote("bob", "cloud", ["a", "b", "c", "d"], "x3", 1.0), "too_many_entries")
    assert session.polls["cloud"].answers.mine("ann") == ["trust", "listening", "openness"]
    assert session.polls["cloud"].answers.mine("bob") is None


def test_a_word_sent_again_counts_once_for_that_person() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust", "TRUST", " trust "])
    assert session.polls["cloud"].answers.mine("ann") == ["trust"], "one entry, not three"
    events = answer(session, "ann", "cloud", ["Trust"])
    assert [type(e) for e in events] == [VoteCast], "nothing new: no tally change"
    answer(session, "bob", "cloud", ["trust"])
    assert items(session, "cloud") == [("trust", 2)]


def test_a_resent_answer_is_acknowledged_and_never_counted_twice() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust"], vote_id="same")
    events = answer(session, "ann", "cloud", ["trust"], vote_id="same")
    assert len(events) == 1 and isinstance(events[0], VoteCast) and events[0].replay
    assert events[0].answer == ["trust"]
    assert items(session, "cloud") == [("trust", 1)]
    refused(session, Vote("bob", "cloud", ["trust"], "same", 1.0), "duplicate_vote_id")


def test_empty_and_long_entries_are_refused_in_characters_and_bytes() -> None:
    session = on_poll("cloud")
    refused(session, Vote("ann", "cloud", ["\u200b \u202e "], "e1", 1.0), "empty_answer")
    refused(session, Vote("ann", "cloud", [], "e2", 1.0), "bad_answer")
    refused(session, Vote("ann", "cloud", 3, "e3", 1.0), "bad_answer")
    refused(session, Vote("ann", "cloud", ["x" * 26], "e4", 1.0), "too_long")
    refused(session, Vote("ann", "cloud", ["😀" * 26], "e5", 1.0), "too_long")
    answer(session, "ann", "cloud", ["x" * 25])
    answer(session, "bob", "cloud", ["😀" * 25])  # 25 characters, 100 bytes: the most allowed
    # Counted after NFKC: an e and a combining accent are one character, é.
    answer(session, "cat", "cloud", ["e\u0301" * 25])
    assert items(session, "cloud")[2] == ("é" * 25, 1)


def test_one_bad_entry_refuses_the_whole_answer() -> None:
    session = on_poll("cloud")
    refused(session, Vote("ann", "cloud", ["fine", "y" * 40], "b1", 1.0), "too_long")
    assert session.polls["cloud"].answers.mine("ann") is None


def test_the_cloud_shows_the_top_fifty_most_frequent_first() -> None:
    people = [f"p{n}" for n in range(30)]
    session = on_poll("cloud", *people)
    # Word w0 from everyone, then 87 words from one person each (the first 29 people's others).
    for n, person in enumerate(people):
        words = ["w0"] + ([f"a{n}", f"b{n}"] if n < 29 else [])
        answer(session, person, "cloud", words)
    shown = items(session, "cloud")
    assert len(shown) == 50, "at most 50 words on any screen"
    assert shown[0] == ("w0", 30)
    # Ties keep the order words first arrived in, so the cloud does not reshuffle.
    assert [word for word, _ in shown[1:5]] == ["a0", "b0", "a1", "b1"]
    assert len(session.polls["cloud"].answers.rows()) == 59, "the export keeps every word"


def test_hiding_a_word_removes_it_from_screens_but_not_from_the_presenter_or_export() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust", "rubbish"])
    answer(session, "bob", "cloud", ["Rubbish"])
    assert session.apply(Moderate("cloud", "hide", "rubbish")) == [TallyChanged("cloud")]
    assert items(session, "cloud") == [("trust", 1)]
    assert items(session, "cloud", "audience") == [("trust", 1)]
    assert states(session, "cloud") == {"trust": "shown", "rubbish": "hidden"}
    rows = session.polls["cloud"].answers.rows()
    assert [(r.text, r.count, r.hidden) for r in rows] == [
        ("rubbish", 2, True),
        ("trust", 1, False),
    ]
    assert session.apply(Moderate("cloud", "hide", "rubbish")) == [], "already hidden"
    answer(session, "cat", "cloud", ["RUBBISH"])
    assert items(session, "cloud") == [("trust", 1)], "a hidden word stays hidden"
    assert session.apply(Moderate("cloud", "show", "rubbish")) == [TallyChanged("cloud")]
    assert items(session, "cloud")[0] == ("rubbish", 3)
    assert session.polls["cloud"].answers.mine("bob") == ["Rubbish"], "hiding deletes nothing"


def test_hiding_a_word_lets_the_fifty_first_in() -> None:
    people = [f"p{n}" for n in range(17)]
    session = on_poll("cloud", *people)
    for n, person in enumerate(people):
        answer(session, person, "cloud", [f"w{3 * n}", f"w{3 * n + 1}", f"w{3 * n + 2}"])
    assert "w50" not in [w for w, _ in items(session, "cloud")]
    session.apply(Moderate("cloud", "hide", "w0"))
    shown = [w for w, _ in items(session, "cloud")]
    assert len(shown) == 50 and "w0" not in shown and "w50" in shown


def test_moderation_refusals() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust"])
    refused(session, Moderate("cloud", "hide", "nothing"), "unknown_item")
    refused(session, Moderate("cloud", "approve", "trust"), "unknown_action")
    refused(session, Moderate("nowhere", "hide", "trust"), "unknown_poll")
    refused(session, Moderate("rate", "hide", "1"), "not_moderated")


def test_nobody_changes_another_participants_entries() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust", "data"])
    answer(session, "bob", "cloud", ["trust", "data", "more"])
    refused(session, Vote("bob", "cloud", ["other"], "o1", 1.0), "too_many_entries")
    answer(session, "cat", "cloud", ["trust"])
    assert session.polls["cloud"].answers.mine("ann") == ["trust", "data"]


def test_a_deck_reload_keeps_every_entry_and_what_was_hidden() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["trust", "rubbish"])
    answer(session, "bob", "cloud", ["trust"])
    session.apply(Moderate("cloud", "hide", "rubbish"))
    edited = parse_deck(
        KINDS_TEXT.replace("One word for this talk?", "One word for this evening?"), "kinds.md"
    )
    report = session.reload(edited)
    assert report.changed == ["cloud"]
    assert items(session, "cloud") == [("trust", 2)]
    assert states(session, "cloud") == {"trust": "shown", "rubbish": "hidden"}
    assert session.polls["cloud"].answers.mine("ann") == ["trust", "rubbish"]
    answer(session, "ann", "cloud", ["third"])
    refused(session, Vote("ann", "cloud", ["fourth"], "r1", 1.0), "too_many_entries")


def test_listed_words_are_masked_on_every_screen_and_kept_in_the_data() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["Bullshit", "trust"])
    answer(session, "bob", "cloud", ["bullshit"])
    for role in ("display", "audience", "presenter"):
        assert items(session, "cloud", role) == [("********", 2), ("trust", 1)]
    cloud = session.polls["cloud"].answers
    assert [r.text for r in cloud.rows()] == ["Bullshit", "trust"], "the export: as sent"
    assert cloud.mine("ann") == ["Bullshit", "trust"], "a phone gets back what it sent"


def test_screens_other_than_the_presenters_get_opaque_stable_ids() -> None:
    session = on_poll("cloud")
    answer(session, "ann", "cloud", ["Bullshit", "trust"])
    display = session.polls["cloud"].answers.tally("display")
    before = [(i.id, i.text) for i in display.items or []]
    assert "bullshit" not in display.model_dump_json().casefold(), "not even as an id"
    answer(session, "bob", "cloud", ["trust"])
    after = session.polls["cloud"].answers.tally("display").items or []
    assert [(i.id, i.text) for i in after] == before[::-1], "ids follow the words as they move"
    assert set(states(session, "cloud")) == {"bullshit", "trust"}, "the presenter's: the words"


def test_forgetting_a_person_takes_their_words_out_of_the_cloud() -> None:
    session = on_poll("cloud", "ann", "bob")
    answer(session, "ann", "cloud", ["trust", "mine alone"])
    answer(session, "bob", "cloud", ["trust"])
    assert items(session, "cloud") == [("trust", 2), ("mine alone", 1)]
    assert session.polls["cloud"].answers.forget("ann")
    assert items(session, "cloud") == [("trust", 1)], "the cloud is ranked again"
    assert session.polls["cloud"].answers.mine("ann") is None


def test_a_cloud_of_the_longest_words_stays_a_small_frame() -> None:
    people = [f"p{n}" for n in range(60)]
    session = on_poll("cloud", *people)
    for n, person in enumerate(people):
        # 25 four-byte characters each (CJK ideographs, unchanged by NFKC): 100 bytes a word.
        answer(session, person, "cloud", ["".join(chr(0x20000 + n * 25 + i) for i in range(25))])
    tally = session.polls["cloud"].answers.tally("display")
    assert len(tally.model_dump_json(exclude_none=True).encode()) < 8192
    shown = len(tally.items or [])
    assert 30 <= shown < 50, "long words give way from the bottom, the top stays"
