"""Word cloud: each participant adds up to a few short entries; the same word counts together."""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from typing import Any

from server.commands import Answer, Refused
from server.kinds.base import LivePoll, Row, Timing, item
from server.protocol import Role, TallyMessage
from server.text import checked, key, mask
from slides import WordsPoll

# The cloud shows at most this many words: a projector cannot show more legibly, and it keeps
# the frame small however many different words a hall sends.
TOP = 50
# And its words take at most this many bytes of text, so a cloud of long words in four-byte
# characters still goes out in one small frame (under 8 KiB with its JSON) to every screen.
TEXT_BUDGET = 4096


class WordsLive(LivePoll[WordsPoll]):
    """Entries per participant, counts per word, and the words the presenter hid."""

    type = "words"

    def __init__(self, poll: WordsPoll) -> None:
        super().__init__(poll)
        self.entries: dict[str, list[str]] = {}
        self.counts: Counter[str] = Counter()
        self.shown_as: dict[str, str] = {}  # word -> how it was first written
        self.order: dict[str, int] = {}  # word -> when first seen, to break ties stably
        self.hidden: set[str] = set()
        # The cloud: the TOP shown words, best first, kept up to date as words are counted,
        # so a tally (for each screen, up to ten a second) does not rank every word the
        # room has sent: thousands of them, most sent once.
        self.top: list[str] = []

    def read(self, raw: Answer) -> Answer:
        """One entry or a list of them: each cleaned and at most `max_length` long."""
        words = [raw] if isinstance(raw, str) else raw
        if not isinstance(words, list) or not words:
            raise Refused("bad_answer", "a word cloud answer is a word or a list of words")
        cleaned: list[str] = []
        seen: set[str] = set()
        for word in words:
            text = checked(word, self.poll.max_length, "entry")
            word_key = key(text)
            if word_key not in seen:
                seen.add(word_key)
                cleaned.append(text)
        if len(cleaned) > self.poll.entries:
            raise Refused("too_many_entries", f"you can send at most {self.poll.entries} entries")
        return cleaned

    def submit(self, participant: str, answer: Answer, timing: Timing) -> bool:
        """Add the participant's new entries (ones they already sent count once)."""
        assert isinstance(answer, list)
        mine = self.entries.get(participant, [])
        known = {key(word) for word in mine}
        new = [(word, word_key) for word in answer if (word_key := key(word)) not in known]
        if not new:
            return False
        if len(mine) + len(new) > self.poll.entries:
            left = self.poll.entries - len(mine)
            raise Refused(
                "too_many_entries",
                f"you can send at most {self.poll.entries} entries ({left} left)",
            )
        for word, word_key in new:
            if word_key not in self.order:
                self.order[word_key] = len(self.order)
                self.shown_as[word_key] = word
            self.counts[word_key] += 1
            self._rise(word_key)
        self.entries[participant] = [*mine, *(word for word, _ in new)]
        return True

    def _rank(self, word: str) -> tuple[int, int]:
        """Most sent first; between equals, the first one sent."""
        return -self.counts[word], self.order[word]

    def _rise(self, word: str) -> None:
        """`word` was just counted once more: move it up the cloud, or into it. Only its rank
        changed, and only upwards, so the cloud stays the TOP best shown words."""
        top = self.top
        if word in self.hidden:
            return
        if word in top:
            at, rank = top.index(word), self._rank(word)
            while at > 0 and self._rank(top[at - 1]) > rank:
                top[at] = top[at - 1]
                at -= 1
            top[at] = word
        elif len(top) < TOP or self._rank(word) < self._rank(top[-1]):
            bisect.insort(top, word, key=self._rank)
            del top[TOP:]

    def _rebuild(self) -> None:
        """Rank every shown word again (after a word is hidden or shown, or a reload)."""
        visible = (word for word in self.counts if word not in self.hidden)
        self.top = heapq.nsmallest(TOP, visible, key=self._rank)

    def mine(self, participant: str) -> Answer | None:
        """The participant's entries."""
        return self.entries.get(participant)

    @property
    def voters(self) -> int:
        """How many sent at least one entry."""
        return len(self.entries)

    def tally(self, role: Role) -> TallyMessage:
        """The top words, listed words masked; the presenter also gets the hidden ones, marked.

        A word's id is the word itself (case-folded) for the presenter, who moderates by it;
        other screens get an opaque id, stable for the poll, so no masked or hidden word
        reaches them even as an attribute.
        """
        presenter = role == "presenter"
        items = []
        spent = 0
        for w in self.top:
            text = mask(self.shown_as[w])
            spent += len(text.encode())
            if spent > TEXT_BUDGET:
                break  # the least sent words give way
            items.append(item(w if presenter else f"w{self.order[w]}", text, self.counts[w]))
        if presenter:
            hidden = sorted(self.hidden, key=self._rank)[:TOP]
            items += [item(w, mask(self.shown_as[w]), self.counts[w], "hidden") for w in hidden]
        return TallyMessage(poll=self.poll.id, voters=self.voters, items=items)

    def moderate(self, action: str, item: str, into: str | None = None) -> bool:
        """Hide a word from every screen, or show it again."""
        if item not in self.counts:
            raise Refused("unknown_item", "there is no such word in this cloud")
        if action == "hide" and item not in self.hidden:
            self.hidden.add(item)
            self._rebuild()
            return True
        if action == "show" and item in self.hidden:
            self.hidden.discard(item)
            self._rebuild()
            return True
        if action not in ("hide", "show"):
            raise Refused("unknown_action", f"a word can be hidden or shown, not {action!r}")
        return False

    def forget(self, participant: str) -> bool:
        """Take this participant's entries out of the counts (a word nobody else sent goes)."""
        mine = self.entries.pop(participant, None)
        if not mine:
            return False
        for word in mine:
            word_key = key(word)
            self.counts[word_key] -= 1
            if self.counts[word_key] <= 0:
                del self.counts[word_key]
                self.hidden.discard(word_key)
        self._rebuild()  # words fell, and maybe out of the cloud: rank again (rare)
        return True

    def rows(self) -> list[Row]:
        """Every word, most frequent first; hidden ones marked."""
        words = sorted(self.counts, key=lambda w: (-self.counts[w], self.order[w]))
        return [Row(w, self.shown_as[w], self.counts[w], hidden=w in self.hidden) for w in words]

    def carry(self, old: LivePoll[Any]) -> None:
        """Keep every entry: a cloud's words do not depend on its wording."""
        if isinstance(old, WordsLive):
            self.entries, self.counts = old.entries, old.counts
            self.shown_as, self.order, self.hidden = old.shown_as, old.order, old.hidden
            self._rebuild()
