// Multiple choice (and the scored quiz question): lettered buttons on phones, bars on screens.
import { Bars } from "/static/shared/bars.js";
import { el, letter } from "/static/shared/dom.js";
import { optionList } from "/static/shared/slide.js";
import { plural, t } from "/static/shared/i18n.js";

/** The message that sends this answer (a choice is a `vote`, as it always was). */
export function wire(poll, value, voteId) {
  return { type: "vote", poll: poll.id, option: value, vote_id: voteId };
}

/** An answer as the phone confirms it: "B". */
export function describe(poll, value) {
  return Number.isInteger(value) ? letter(value) : "";
}

/** Phone: one button per option. `answer(value)` sends; `update(view)` reflects the state. */
export function audience(area, poll, { answer }) {
  const buttons = poll.options.map((text, index) => {
    const button = el(
      "button",
      { type: "button", class: "choice", "aria-pressed": "false", "data-option": index },
      el("span", { class: "choice-letter", text: letter(index) }),
      el("span", { class: "choice-text", dir: "auto", text }),
      el("span", { class: "choice-mark", "aria-hidden": "true", text: "✓" }),
    );
    button.addEventListener("click", () => answer(index));
    return button;
  });
  const list = el("div", { class: "choices", role: "group", "aria-label": t("answers") }, ...buttons);
  const results = el("section", { class: "results", "aria-label": t("results"), hidden: true });
  area.append(list, results);
  let bars = null;
  let summary = null;
  return {
    prompt: (chosen) => (chosen === null ? t("poll.open_choice") : t("poll.open")),
    update({ status, tally, chosen, mine, canAnswer }) {
      buttons.forEach((button, index) => {
        button.disabled = !canAnswer;
        button.setAttribute("aria-pressed", String(chosen === index));
      });
      list.hidden = status.revealed && status.status !== "open";
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (!visible) return;
      if (!bars) {
        bars = new Bars(poll.options, { label: t("results") });
        summary = el("p", { class: "results-summary" });
        results.append(el("h2", { class: "results-title", text: t("results") }), summary, bars.root);
      }
      bars.update({ counts: tally?.counts ?? poll.options.map(() => 0), correct: status.correct, mine });
      const voters = tally?.voters ?? 0;
      summary.textContent = plural("votes", voters);
    },
  };
}

/** Projector: live bars (or the options alone while results are hidden). */
export function display(area, poll) {
  const bars = new Bars(poll.options, { label: t("display.votes_per_option") });
  area.append(bars.root);
  return {
    update({ status, tally }) {
      const zeros = poll.options.map(() => 0);
      bars.update({ counts: status.counts_visible ? (tally?.counts ?? zeros) : null, correct: status.correct });
    },
  };
}

/** Presenter: the live bars with the correct answer marked. */
export function presenter(area, poll) {
  const bars = new Bars(poll.options, { label: t("presenter.live_results") });
  area.replaceChildren(bars.root);
  return {
    update({ status, tally }) {
      bars.update({ counts: tally?.counts ?? poll.options.map(() => 0), correct: status.correct });
    },
  };
}

/** A slide preview's poll: the options. */
export function preview(poll) {
  return optionList(poll.options);
}
