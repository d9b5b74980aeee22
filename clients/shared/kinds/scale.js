// Rating scale: phones pick a point from min to max; screens show the distribution, the mean
// and the median.
import { el } from "/static/shared/dom.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

export function describe(poll, value) {
  return Number.isInteger(value) ? String(value) : "";
}

function points(poll) {
  return Array.from({ length: poll.max - poll.min + 1 }, (_, i) => poll.min + i);
}

const figure = (value) => (value === null || value === undefined ? "–" : String(Math.round(value * 10) / 10));

/** Columns per point, with the mean and median beside them. */
class Histogram {
  constructor(poll, label) {
    this.poll = poll;
    this.columns = points(poll).map((point) => {
      const fill = el("span", { class: "scale-fill" });
      const count = el("span", { class: "scale-count" });
      const column = el(
        "li",
        { class: "scale-column", "data-point": point },
        count,
        el("span", { class: "scale-track", "aria-hidden": "true" }, fill),
        el("span", { class: "scale-point", text: String(point) }),
      );
      return { column, fill, count };
    });
    this.stats = el("p", { class: "scale-stats" });
    const ends = poll.labels
      ? el("p", { class: "scale-ends" }, el("span", { text: poll.labels[0] }), el("span", { text: poll.labels[1] }))
      : null;
    this.root = el(
      "div",
      { class: "scale-results" },
      el("ol", { class: "scale-histogram", "aria-label": label }, ...this.columns.map((c) => c.column)),
      ends,
      this.stats,
    );
  }

  update(tally, mine = null) {
    const counts = tally?.counts ?? this.columns.map(() => 0);
    const top = Math.max(1, ...counts);
    this.columns.forEach(({ column, fill, count }, index) => {
      const n = counts[index] ?? 0;
      fill.style.height = `${((n / top) * 100).toFixed(1)}%`;
      count.textContent = String(n);
      column.classList.toggle("mine", mine === this.poll.min + index);
    });
    this.stats.textContent = `Mean ${figure(tally?.mean)} · median ${figure(tally?.median)}`;
  }
}

export function audience(area, poll, { answer }) {
  const buttons = points(poll).map((point) => {
    const button = el("button", { type: "button", class: "scale-point-button", "aria-pressed": "false", text: String(point) });
    button.addEventListener("click", () => answer(point));
    return button;
  });
  const group = el("div", { class: "scale-buttons", role: "group", "aria-label": "Your rating" }, ...buttons);
  const ends = poll.labels
    ? el("p", { class: "scale-ends" }, el("span", { text: `${poll.min}: ${poll.labels[0]}` }), el("span", { text: `${poll.max}: ${poll.labels[1]}` }))
    : null;
  const results = el("section", { class: "results", "aria-label": "Results", hidden: true });
  let histogram = null;
  area.append(group, ...(ends ? [ends] : []), results);
  return {
    prompt: (chosen) => (chosen === null ? "Voting is open: tap your rating" : "Voting is open"),
    update({ status, tally, chosen, mine, canAnswer }) {
      buttons.forEach((button, index) => {
        button.disabled = !canAnswer;
        button.setAttribute("aria-pressed", String(chosen === poll.min + index));
      });
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (!visible) return;
      if (!histogram) {
        histogram = new Histogram(poll, "Ratings");
        results.append(el("h2", { class: "results-title", text: "Results" }), histogram.root);
      }
      histogram.update(tally, mine);
    },
  };
}

export function display(area, poll) {
  const histogram = new Histogram(poll, "Ratings from the room");
  area.append(histogram.root);
  return {
    update({ status, tally }) {
      histogram.root.classList.toggle("no-counts", !status.counts_visible);
      histogram.update(status.counts_visible ? tally : null);
    },
  };
}

export function presenter(area, poll) {
  const histogram = new Histogram(poll, "Live ratings");
  area.replaceChildren(histogram.root);
  return { update: ({ tally }) => histogram.update(tally) };
}

export function preview(poll) {
  const ends = poll.labels ? ` (${poll.labels[0]} … ${poll.labels[1]})` : "";
  return el("p", { class: "kind-preview", text: `Rating from ${poll.min} to ${poll.max}${ends}` });
}
