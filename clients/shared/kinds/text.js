// Open text: phones write short answers; the projector shows a wall the presenter curates
// (with `moderation: before`, an answer shows only once approved).
import { el } from "/static/shared/dom.js";
import { fitText, overflows } from "/static/shared/fit.js";
import { Entry } from "/static/shared/kinds/entry.js";
import { ModerationList } from "/static/shared/kinds/moderation.js";
import { number, plural, t } from "/static/shared/i18n.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

/** How the display counts those who answered. */
export function voters(n) {
  return plural("people", n);
}

export function describe(poll, value) {
  return Array.isArray(value) ? value.join(" · ") : String(value ?? "");
}

export function confirmed(poll, value) {
  const n = Array.isArray(value) ? value.length : 1;
  return plural("text.in", n);
}

export function full(poll, recorded) {
  return Array.isArray(recorded) && recorded.length >= poll.answers;
}

function wall(items, label) {
  return el(
    "ul",
    { class: "wall", "aria-label": label },
    ...(items || []).filter((item) => item.state === "shown").map((item) => el("li", { class: "wall-card", dir: "auto", text: item.text })),
  );
}

export function audience(area, poll, { answer }) {
  const box = el("textarea", {
    id: `text-${poll.id}`,
    dir: "auto",
    maxlength: String(poll.max_length),
    rows: "3",
    "aria-describedby": `text-help-${poll.id}`,
  });
  const button = el("button", { type: "submit", class: "primary", text: t("text.send") });
  const help = el("p", { id: `text-help-${poll.id}`, class: "entry-help" });
  const form = el(
    "form",
    { class: "entry-form text-form" },
    el("label", { for: box.id, text: t("text.label") }),
    box,
    help,
    button,
  );
  const mineList = el("ul", { class: "my-entries", "aria-label": t("text.sent") });
  const results = el("section", { class: "results", "aria-label": t("answers"), hidden: true });
  // The box empties only once the server has the answer: one refused (too fast, too long)
  // stays there, with the reason, to be sent again.
  const usual = () =>
    box.value
      ? t("text.typed", { typed: number(box.value.length), max: number(poll.max_length) })
      : t("text.max", { max: number(poll.max_length) });
  const entry = new Entry(box, help, usual);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    entry.sent(answer(text));
  });
  box.addEventListener("input", () => {
    entry.edited();
    help.textContent = usual();
  });
  area.append(form, mineList, results);
  return {
    prompt: () => t("poll.open_text"),
    lockedNote: poll.answers === 1 ? t("text.locked_one") : t("text.locked_all"),
    settled: (voteId, problem) => entry.settled(voteId, problem),
    update({ status, tally, mine, canAnswer, full: done }) {
      const sent = Array.isArray(mine) ? mine : mine ? [mine] : [];
      box.disabled = !canAnswer;
      button.disabled = !canAnswer;
      // Shown (disabled) until voting opens; gone once closed or once every answer is in.
      form.hidden = status.status === "closed" || done;
      if (!entry.problem) help.textContent = usual();
      mineList.replaceChildren(...sent.map((text) => el("li", { dir: "auto", text })));
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (visible) results.replaceChildren(el("h2", { class: "results-title", text: t("answers") }), wall(tally?.items, t("answers")));
    },
  };
}

export function display(area, poll) {
  // The wall takes the room the slide leaves it; its type shrinks as answers arrive, and once
  // it is as small as reads well from the back, the oldest answers leave the wall first.
  const holder = el("div", { class: "wall-holder" });
  const more = el("p", { class: "wall-more", "aria-live": "off" });
  area.append(holder, more);
  let shown = "";
  const fit = () => {
    const cards = [...holder.querySelectorAll(".wall-card")];
    for (const card of cards) card.hidden = false;
    fitText(holder, 0.8, 0.55);
    let gone = 0;
    while (gone < cards.length - 1 && overflows(holder)) {
      cards[gone].hidden = true;
      gone += 1;
    }
    more.textContent = gone ? plural("display.earlier", gone) : "";
  };
  new ResizeObserver(fit).observe(holder);
  return {
    update({ status, tally }) {
      const items = status.counts_visible ? tally?.items || [] : [];
      const key = JSON.stringify(items);
      if (key === shown) return;
      shown = key;
      holder.replaceChildren(wall(items, t("display.answers")));
      fit();
    },
  };
}

// What the presenter can do with an answer in each state (the action, the button's words),
// and how the state reads.
const ACTIONS = {
  pending: [["approve", "moderate.approve"], ["hide", "moderate.hide"]],
  shown: [["hide", "moderate.hide"]],
  hidden: [["show", "moderate.show"]],
};
const STATES = { pending: "moderate.pending", shown: "moderate.shown", hidden: "moderate.hidden" };

export function presenter(area, poll, { moderate }) {
  const list = new ModerationList(t("presenter.answers"), t("presenter.no_answers"), moderate);
  area.replaceChildren(list.root);
  return {
    update({ tally }) {
      const items = [...(tally?.items || [])].reverse(); // newest first
      list.update(
        items.map((item) => ({
          id: item.id,
          text: item.text,
          state: item.state,
          stateText: STATES[item.state] ? t(STATES[item.state]) : item.state,
          count: null,
          actions: (ACTIONS[item.state] ?? []).map(([action, label]) => [action, t(label)]),
        })),
      );
    },
  };
}

export function preview(poll) {
  const text = poll.moderation === "before" ? t("preview.text_approved") : t("preview.text");
  return el("p", { class: "kind-preview", text });
}
