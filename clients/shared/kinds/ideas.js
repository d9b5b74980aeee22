// Ideas board: phones propose ideas, then spend a few votes on them, one per idea; the
// projector ranks them live; the presenter (or a moderator) approves, hides and merges them,
// and closes proposing while voting goes on. Every idea is shown as text (textContent).
import { el } from "/static/shared/dom.js";
import { ModerationList } from "/static/shared/kinds/moderation.js";
import { number, parts, plural, t } from "/static/shared/i18n.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

/** How the display counts those who took part. */
export function voters(n) {
  return plural("people", n);
}

export function describe(poll, value) {
  return Array.isArray(value) ? value.join(", ") : String(value ?? "");
}

export function confirmed(poll, value) {
  const dots = Array.isArray(value) ? value.length : 0;
  return dots ? plural("ideas.in", dots) : t("ideas.proposed");
}

/** Votes can always be moved (until voting closes): the board is never "full". */
export function full() {
  return false;
}

/** The ideas a phone votes for: the set on its way, else the one the server holds; an idea
 * merged into another since counts as that one (once). */
function dotsOf(chosen, mine, merged) {
  const given = Array.isArray(chosen) ? chosen : Array.isArray(mine) ? mine : [];
  return [...new Set(given.map((id) => merged?.[id] ?? id))];
}

export function audience(area, poll, { answer }) {
  const box = el("textarea", {
    id: `idea-${poll.id}`,
    dir: "auto",
    maxlength: String(poll.max_length),
    rows: "2",
    "aria-describedby": `idea-help-${poll.id}`,
  });
  const button = el("button", { type: "submit", class: "primary", text: t("ideas.send") });
  const help = el("p", { id: `idea-help-${poll.id}`, class: "entry-help" });
  const form = el("form", { class: "entry-form ideas-form" }, el("label", { for: box.id, text: t("ideas.label") }), box, help, button);
  const closedNote = el("p", { class: "ideas-closed", hidden: true });
  const ownTitle = el("h2", { class: "results-title", text: t("ideas.mine"), hidden: true });
  const ownList = el("ul", { class: "ideas-own", "aria-label": t("ideas.mine") });
  const left = el("p", { class: "ideas-left", role: "status" });
  const board = el("ol", { class: "ideas-board", "aria-label": t("ideas.board") });
  const empty = el("p", { class: "ideas-empty", text: t("ideas.empty") });
  const section = el("section", { class: "ideas-vote", "aria-label": t("ideas.board") }, el("h2", { class: "results-title", text: t("ideas.board") }), left, board, empty);
  let last = { dots: [], canAnswer: false };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    answer(text);
    box.value = "";
  });
  box.addEventListener("input", () => {
    help.textContent = t("text.max", { max: poll.max_length });
  });
  // Phones get the ideas in the order proposed, without their votes: people vote on ideas,
  // not on what the room already likes.
  const rows = new Map(); // idea id -> {li, text, button}
  function toggle(id) {
    const on = last.dots.includes(id);
    if (!on && last.dots.length >= poll.votes_per_person) return;
    answer(on ? last.dots.filter((d) => d !== id) : [...last.dots, id]);
  }
  function row(id) {
    let found = rows.get(id);
    if (found) return found;
    // Each "Vote" button is described by its idea, so a screen reader says which one.
    const text = el("span", { class: "idea-text", dir: "auto", id: `idea-${poll.id}-${id}` });
    const button = el("button", { type: "button", class: "idea-vote", "aria-pressed": "false", "aria-describedby": text.id });
    button.addEventListener("click", () => toggle(id));
    const li = el("li", { class: "idea", "data-idea": id }, text, button);
    found = { li, text, button };
    rows.set(id, found);
    return found;
  }
  area.append(form, closedNote, ownTitle, ownList, section);
  return {
    // Once proposing is closed, the prompt no longer asks for ideas.
    prompt: (chosen, tally) => (tally?.proposing === false ? t("poll.open") : t("poll.open_ideas")),
    lockedNote: "",
    update({ status, tally, chosen, mine, canAnswer, own }) {
      const merged = tally?.merged ?? {};
      const dots = dotsOf(chosen, mine, merged);
      const proposing = tally?.proposing !== false;
      last = { dots, canAnswer };
      // What the server said of this phone's ideas when it last answered, brought up to date
      // by the board: an idea on it is shown (approved since), a merged one is the idea it joined.
      const onBoard = new Set((tally?.items || []).map((item) => item.id));
      const ideas = (own || []).map((idea) => {
        const id = merged[idea.id] ?? idea.id;
        return { ...idea, id, state: onBoard.has(id) ? "shown" : idea.state };
      });
      const sending = typeof chosen === "string" ? chosen : null;
      const atLimit = ideas.length >= poll.ideas;
      box.disabled = button.disabled = !canAnswer;
      form.hidden = status.status === "closed" || !proposing || atLimit;
      closedNote.hidden = status.status === "closed" || (proposing && !atLimit);
      closedNote.textContent = proposing ? t("ideas.limit") : t("ideas.closed");
      if (!box.value) help.textContent = t("text.max", { max: poll.max_length });
      const mineItems = ideas.map((idea) =>
        el(
          "li",
          { class: `idea-own state-${idea.state}` },
          el("span", { class: "idea-text", dir: "auto", text: idea.text }),
          el("span", { class: "idea-state", text: idea.state === "shown" ? t("ideas.on_board") : t("ideas.pending") }),
        ),
      );
      if (sending) mineItems.push(el("li", { class: "idea-own state-sending" }, el("span", { class: "idea-text", dir: "auto", text: sending }), el("span", { class: "idea-state", text: t("vote.sending") })));
      ownList.replaceChildren(...mineItems);
      ownTitle.hidden = mineItems.length === 0;
      const items = (tally?.items || []).filter((item) => item.state === "shown");
      const spare = poll.votes_per_person - dots.length;
      left.textContent = plural("ideas.left", Math.max(0, spare));
      const keep = new Set(items.map((item) => item.id));
      for (const [id, found] of rows) {
        if (!keep.has(id)) {
          found.li.remove();
          rows.delete(id);
        }
      }
      let at = board.firstChild;
      for (const item of items) {
        const found = row(item.id);
        const on = dots.includes(item.id);
        found.text.textContent = item.text;
        found.li.classList.toggle("voted", on);
        found.button.setAttribute("aria-pressed", on ? "true" : "false");
        found.button.textContent = on ? t("ideas.voted") : t("ideas.vote");
        found.button.disabled = !canAnswer || (!on && spare <= 0);
        // Only what is out of place moves, so a focused button keeps its focus.
        if (found.li === at) at = at.nextSibling;
        else board.insertBefore(found.li, at);
      }
      empty.hidden = items.length > 0;
    },
  };
}

export function display(area, poll) {
  const list = el("ol", { class: "ideas-ranking", "aria-label": t("ideas.ranking") });
  const closed = el("p", { class: "ideas-proposing" });
  area.append(list, closed);
  let shown = "";
  return {
    update({ status, tally }) {
      const items = status.counts_visible ? tally?.items || [] : [];
      closed.textContent = tally?.proposing === false ? t("ideas.proposing_closed") : "";
      const key = JSON.stringify(items);
      if (key === shown) return;
      shown = key;
      const top = Math.max(1, ...items.map((item) => item.count));
      list.replaceChildren(
        ...items.map((item, index) =>
          el(
            "li",
            { class: "idea-ranked", "data-idea": item.id, style: `--share: ${(item.count / top).toFixed(3)}` },
            el("span", { class: "idea-rank", text: number(index + 1) }),
            el("span", { class: "idea-text", dir: "auto", text: item.text }),
            el("span", { class: "idea-count", text: plural("votes", item.count) }),
          ),
        ),
      );
    },
  };
}

/** What the presenter's board says of an idea in each state. */
function stateText(state) {
  if (state === "pending") return t("ideas.pending");
  if (state === "shown") return t("ideas.on_board");
  if (state === "hidden") return t("moderate.hidden");
  return state;
}

/**
 * The presenter's (and a moderator's) board: the ideas waiting for approval first, then the
 * ranked ones, then the hidden; approve, hide, show, and merge a duplicate into another idea
 * (Merge… picks the duplicate, then "Merge into this" on the idea it joins, or Cancel), and
 * close or open proposing. `moderate(action, item, into)` sends the action. From the keyboard,
 * on the focused list: ↑↓ pick an idea, A approve, D dismiss (hide), S show, M merge (then
 * pick the idea it duplicates and press M or Enter), Esc cancel.
 */
export function presenter(area, poll, { moderate }) {
  let merging = null; // the id of the idea being merged, while the presenter picks its target
  let lastTally = null;
  const proposing = el("button", { type: "button", class: "small ideas-proposing-toggle" });
  proposing.addEventListener("click", () => {
    moderate(lastTally?.proposing === false ? "open_proposing" : "close_proposing", "");
  });
  const hint = el("p", { class: "ideas-merge-hint", role: "status" });
  const act = (action, id) => {
    if (action === "merge") merging = id;
    else if (action === "cancel") merging = null;
    else if (action === "into") {
      moderate("merge", merging, id);
      merging = null;
    } else moderate(action, id);
    render();
  };
  const list = new ModerationList(t("ideas.list"), t("ideas.none"), act);
  list.root.setAttribute("tabindex", "0");
  const help = el("p", { class: "qa-help ideas-help", text: t("ideas.keys") });
  area.replaceChildren(el("div", { class: "ideas-tools" }, proposing, hint), help, list.root);
  let shown = []; // the ideas in the order listed
  let picked = null; // the id of the idea the keyboard is on
  list.root.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !shown.length) return;
    if (event.target !== list.root) return; // a focused button takes its own keys
    const key = event.key.toLowerCase();
    const at = Math.max(0, shown.findIndex((item) => item.id === picked));
    const item = shown[at];
    const moves = { arrowdown: 1, j: 1, arrowup: -1, k: -1 };
    if (key in moves) picked = shown[Math.max(0, Math.min(shown.length - 1, at + moves[key]))].id;
    else if (key === "escape" && merging !== null) merging = null;
    else if ((key === "m" || key === "enter") && merging !== null && item.id !== merging) act("into", item.id);
    else if (key === "m" && item.state !== "hidden") act("merge", item.id);
    else if (key === "a" && item.state === "pending") act("approve", item.id);
    else if (key === "d" && item.state !== "hidden") act("hide", item.id);
    else if (key === "s" && item.state === "hidden") act("show", item.id);
    else return;
    event.preventDefault();
    render();
  });
  function actions(item) {
    if (merging !== null) {
      if (item.id === merging) return [["cancel", t("ideas.cancel_merge")]];
      return item.state === "hidden" ? [] : [["into", t("ideas.merge_into")]];
    }
    const base = { pending: [["approve", t("moderate.approve")], ["hide", t("ideas.dismiss")]], shown: [["hide", t("moderate.hide")]], hidden: [["show", t("moderate.show")]] }[item.state] ?? [];
    return item.state === "hidden" ? base : [...base, ["merge", t("ideas.merge")]];
  }
  function render() {
    const items = lastTally?.items || [];
    if (merging !== null && !items.some((item) => item.id === merging)) merging = null;
    const order = { pending: 0, shown: 1, hidden: 2 };
    const sorted = [...items].sort((a, b) => order[a.state] - order[b.state]);
    proposing.textContent = lastTally?.proposing === false ? t("ideas.open_proposing") : t("ideas.close_proposing");
    const source = items.find((item) => item.id === merging);
    // The idea is isolated (<bdi>), so an English idea keeps its place in an Arabic sentence.
    hint.replaceChildren(...(source ? parts("ideas.merging", { idea: el("bdi", { text: source.text }) }) : []));
    shown = sorted;
    if (!sorted.some((item) => item.id === picked)) picked = sorted[0]?.id ?? null;
    list.update(
      sorted.map((item) => ({
        id: item.id,
        text: item.text,
        state: item.state,
        stateText: stateText(item.state),
        count: item.state === "shown" ? item.count : null,
        countLabel: plural("votes", item.count),
        actions: actions(item),
      })),
    );
    for (const [id, row] of list.rows) {
      if (id === picked) row.li.setAttribute("aria-current", "true");
      else row.li.removeAttribute("aria-current");
    }
  }
  return {
    update({ tally }) {
      lastTally = tally ?? null;
      render();
    },
  };
}

export function preview(poll) {
  const votes = plural("votes", poll.votes_per_person);
  const text = poll.moderation === "before" ? t("preview.ideas_approved", { votes }) : t("preview.ideas", { votes });
  return el("p", { class: "kind-preview", text });
}
