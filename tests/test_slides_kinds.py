"""Each slide kind: how it is inferred from content, forced by `layout:`, and what parts it has."""

from __future__ import annotations

import pytest

from slides import Deck, Slide, SlideKind, parse_deck


def parse(text: str) -> Deck:
    return parse_deck(text, file="deck.md")


def only(text: str) -> Slide:
    deck = parse(text)
    assert len(deck.slides) == 1
    return deck.slides[0]


def with_layout(layout: str, body: str) -> Slide:
    """The second slide of a deck whose second slide has `layout:`."""
    return parse(f"# Intro\n\n---\nlayout: {layout}\n---\n\n{body}").slides[1]


INFERRED = [
    ("# Digital engagement\n", SlideKind.TITLE),
    ("# Digital engagement\n\n## A talk in twenty slides\n", SlideKind.TITLE),
    ("Social media = conversations\n", SlideKind.STATEMENT),
    ("One.\n\nTwo.\n\nThree.\n", SlideKind.STATEMENT),
    ("# Why\n\n- Trends\n- News\n", SlideKind.BULLETS),
    ("- Listening\n- Sharing\n", SlideKind.BULLETS),
    ("# Lessons\n\n1. Content first\n2. Be honest\n", SlideKind.NUMBERED),
    ("# Vision\n\n> Better conversations.\n", SlideKind.QUOTE),
    ("> Better conversations.\n\nDIUS, 2009\n", SlideKind.QUOTE),
    ("[google.com](https://google.com)\n", SlideKind.LINK),
    ("# Feedback\n\n[dell.com](https://dell.com)\n", SlideKind.LINK),
    ("![A chart](chart.png)\n", SlideKind.IMAGE),
    ("# The cycle\n\n![A chart](chart.png)\n", SlideKind.IMAGE),
    ("# Q?\n\n- [ ] Yes\n- [ ] No\n", SlideKind.POLL),
    ("# Heading\n\nA paragraph.\n", SlideKind.CONTENT),
    ("One.\n\nTwo.\n\nThree.\n\nFour.\n", SlideKind.CONTENT),
    ("# Code\n\n```python\nprint(1)\n```\n", SlideKind.CONTENT),
    ("# Mixed\n\n- a list\n\nand a paragraph\n", SlideKind.CONTENT),
    ("See [a](https://a.example) and [b](https://b.example)\n", SlideKind.STATEMENT),
    ("[a](https://a.example) or [b](https://b.example)\n", SlideKind.STATEMENT),
    ("Visit [a](https://a.example) today\n", SlideKind.STATEMENT),
    ("![a](a.png) ![b](b.png)\n", SlideKind.STATEMENT),
]


@pytest.mark.parametrize(("body", "kind"), INFERRED, ids=[repr(b) for b, _ in INFERRED])
def test_kind_is_inferred_from_content(body: str, kind: SlideKind) -> None:
    assert only(body).kind is kind


def test_grid_and_steps_are_never_inferred() -> None:
    slide = only("## Listening\nReading blogs\n\n## Sharing\nPublishing data\n")
    assert slide.kind is SlideKind.CONTENT
    assert slide.cells == []


BY_LAYOUT = {
    SlideKind.TITLE: "Plain words, shown as a title\n",
    SlideKind.STATEMENT: "# A heading made big\n",
    SlideKind.BULLETS: "# Only a heading\n",
    SlideKind.NUMBERED: "- bullets shown as numbered\n",
    SlideKind.QUOTE: "Words without a blockquote\n",
    SlideKind.GRID: "## A\none\n\n## B\ntwo\n",
    SlideKind.STEPS: "## First\n\n## Then\n",
    SlideKind.LINK: "# Where\n\nCome to [our site](https://example.org) any time.\n",
    SlideKind.IMAGE: "# A chart\n\nAs you can see: ![chart](chart.png)\n",
    SlideKind.POLL: "# Q?\n\n- [ ] Yes\n- [ ] No\n",
    SlideKind.CONTENT: "# Heading only\n",
    SlideKind.LEADERBOARD: "# Who is winning\n",
    SlideKind.QUESTIONS: "# Your questions\n",
}


def test_every_kind_has_a_layout_example() -> None:
    assert set(BY_LAYOUT) == set(SlideKind)


@pytest.mark.parametrize("kind", list(SlideKind), ids=[k.value for k in SlideKind])
def test_layout_sets_the_kind(kind: SlideKind) -> None:
    assert with_layout(kind.value, BY_LAYOUT[kind]).kind is kind


def test_title_slide_parts() -> None:
    slide = only("# Digital engagement\n\n## Subtitle\n")
    assert slide.title == "Digital engagement"
    assert slide.html == "<h1>Digital engagement</h1>\n<h2>Subtitle</h2>"
    assert slide.text == "Digital engagement\nSubtitle"


def test_statement_has_no_title_but_keeps_its_words() -> None:
    slide = only("Just another channel… but a *two-way* channel.\n")
    assert slide.title is None
    assert slide.html == "<p>Just another channel… but a <em>two-way</em> channel.</p>"
    assert slide.text == "Just another channel… but a two-way channel."


def test_numbered_list_keeps_its_items_and_start() -> None:
    slide = only("# Lessons\n\n3. Third\n4. Fourth\n")
    assert slide.kind is SlideKind.NUMBERED
    assert slide.html == '<h1>Lessons</h1>\n<ol start="3">\n<li>Third</li>\n<li>Fourth</li>\n</ol>'


def test_link_slide_exposes_its_url() -> None:
    slide = only("# Feedback\n\n[en.community.dell.com](https://en.community.dell.com)\n")
    assert slide.url == "https://en.community.dell.com"
    assert slide.title == "Feedback"
    assert 'href="https://en.community.dell.com"' in slide.html


def test_forced_link_slide_takes_the_first_link() -> None:
    slide = with_layout("link", "See [one](https://one.example) or [two](https://two.example)")
    assert slide.url == "https://one.example"


def test_image_slide_exposes_its_image() -> None:
    slide = only("![The policy cycle](images/cycle.png)\n")
    assert slide.image == "/assets/images/cycle.png"
    assert slide.text == "The policy cycle"


def test_grid_cells_have_headings_and_html() -> None:
    slide = with_layout(
        "grid",
        "# Four ways\n\nPick one.\n\n## Listening\nReading *blogs*\n\n## Sharing\n\n"
        "## Conversing\nForums\n\n## Collaborating\n- drafting\n- partnering\n",
    )
    assert slide.title == "Four ways"
    assert slide.html == "<h1>Four ways</h1>\n<p>Pick one.</p>"
    assert [(c.heading, c.html) for c in slide.cells] == [
        ("Listening", "<p>Reading <em>blogs</em></p>"),
        ("Sharing", ""),
        ("Conversing", "<p>Forums</p>"),
        ("Collaborating", "<ul>\n<li>drafting</li>\n<li>partnering</li>\n</ul>"),
    ]


def test_grid_of_two_cells() -> None:
    slide = with_layout("grid", "## Before\nPaper\n\n## After\nPhones\n")
    assert [c.heading for c in slide.cells] == ["Before", "After"]
    assert slide.title is None


def test_steps_keep_their_order_from_two_to_eight() -> None:
    names = ["Educate", "Enable", "Engage", "Promote", "Five", "Six", "Seven", "Eight"]
    for count in (2, 8):
        body = "".join(f"## {name}\n\n" for name in names[:count])
        assert [c.heading for c in with_layout("steps", body).cells] == names[:count]


def test_poll_parts() -> None:
    slide = only(
        "## How many 13-15s regularly post *reviews* online?\n\n"
        "A hint for the room.\n\n"
        "- [ ] 10%\n- [X] **40%**\n- [ ] `55%`\n\n"
        "Source: Forrester for DIUS, Aug 2008\n"
    )
    poll = slide.poll
    assert poll is not None
    assert poll.type == "choice"
    assert poll.question == "How many 13-15s regularly post reviews online?"
    assert slide.title == poll.question
    assert poll.options == ["10%", "40%", "55%"]
    assert poll.correct == 1
    assert poll.source == "Forrester for DIUS, Aug 2008"
    assert slide.html == "<p>A hint for the room.</p>"
    assert slide.text.splitlines() == [
        "How many 13-15s regularly post reviews online?",
        "10%",
        "40%",
        "55%",
        "Source: Forrester for DIUS, Aug 2008",
    ]


def test_poll_without_correct_answer_or_source() -> None:
    poll = only("# Best topping?\n\n- [ ] Mushroom\n- [ ] Pineapple\n").poll
    assert poll is not None
    assert (poll.correct, poll.source) == (None, None)


def test_poll_options_are_plain_text_even_with_links() -> None:
    poll = only("# Which site?\n\n- [ ] [Google](https://google.com)\n- [ ] _Bing_\n").poll
    assert poll is not None
    assert poll.options == ["Google", "Bing"]


def test_poll_with_ten_options_is_fine() -> None:
    items = "".join(f"- [ ] Option {n}\n" for n in range(1, 11))
    poll = only(f"# Pick\n\n{items}").poll
    assert poll is not None
    assert len(poll.options) == 10


def test_nested_items_under_an_option_are_not_options() -> None:
    poll = only("# Q?\n\n- [ ] Yes\n  - [ ] maybe\n- [ ] No\n").poll
    assert poll is not None
    assert poll.options == ["Yes", "No"]


def test_a_plain_bullet_list_is_not_a_poll() -> None:
    slide = only("# Q?\n\n- [ ] Yes\n- No\n")
    assert slide.kind is SlideKind.BULLETS
    assert slide.poll is None
