// Rating scale: phones pick a point from min to max; screens show the distribution, the mean
// and the median.
import { el } from "/static/shared/dom.js";
import { number, plural, t } from "/static/shared/i18n.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

export function describe(poll, value) {
  return Number.isInteger(value) ? String(value) : "";
}

function points(poll) {
  return Array.from({ length: poll.max - poll.min + 1 }, (_, i) => poll.min + i);
}

const figure = (value) => (value === null || value === undefined ? "–" : number(Math.round(value * 10) / 10));

/** Columns per point, with the mean and median beside them. */
class Histogram {
  constructor(poll, label) {
    this.poll = poll;
    this.columns = points(poll).map((point) => {
      const count = el("span", { class: "scale-count" });
      const fill = el("span", { class: "scale-fill" }, count); // the count rides on its column
      // What a screen reader says for the column ("4: 2 votes"); the figures above and below
      // it are for the eye.
      const said = el("span", { class: "visually-hidden" });
      const column = el(
        "li",
        { class: "scale-column", "data-point": point },
        el("span", { class: "scale-track", "aria-hidden": "true" }, fill),
        el("span", { class: "scale-point", "aria-hidden": "true", text: String(point) }),
        said,
      );
      return { column, fill, count, said, point };
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
    this.columns.forEach(({ column, fill, count, said, point }, index) => {
      const n = counts[index] ?? 0;
      fill.style.height = `${((n / top) * 100).toFixed(1)}%`;
      count.textContent = String(n);
      const isMine = mine === point;
      column.classList.toggle("mine", isMine);
      const votes = plural("votes", n);
      said.textContent = isMine ? t("rating.point_mine", { point, votes }) : t("rating.point", { point, votes });
    });
    this.stats.textContent =
      tally?.mean === null || tally?.mean === undefined
        ? t("rating.none")
        : t("rating.summary", { mean: figure(tally.mean), median: figure(tally.median) });
  }
}

export function audience(area, poll, { answer }) {
  const buttons = points(poll).map((point) => {
    const button = el("button", { type: "button", class: "scale-point-button", "aria-pressed": "false", text: String(point) });
    button.addEventListener("click", () => answer(point));
    return button;
  });
  const group = el("div", { class: "scale-buttons", role: "group", "aria-label": t("rating.label") }, ...buttons);
  const ends = poll.labels
    ? el("p", { class: "scale-ends" }, el("span", { text: `${poll.min}: ${poll.labels[0]}` }), el("span", { text: `${poll.max}: ${poll.labels[1]}` }))
    : null;
  const results = el("section", { class: "results", "aria-label": t("results"), hidden: true });
  let histogram = null;
  area.append(group, ...(ends ? [ends] : []), results);
  return {
    prompt: (chosen) => (chosen === null ? t("poll.open_rating") : t("poll.open")),
    update({ status, tally, chosen, mine, canAnswer }) {
      buttons.forEach((button, index) => {
        button.disabled = !canAnswer;
        button.setAttribute("aria-pressed", String(chosen === poll.min + index));
      });
      const visible = status.revealed && status.counts_visible;
      // Closed and revealed: the results (with this phone's rating marked) say it all.
      group.hidden = visible && status.status !== "open";
      if (ends) ends.hidden = group.hidden;
      results.hidden = !visible;
      if (!visible) return;
      if (!histogram) {
        histogram = new Histogram(poll, t("ratings"));
        results.append(el("h2", { class: "results-title", text: t("results") }), histogram.root);
      }
      histogram.update(tally, mine);
    },
  };
}

export function display(area, poll) {
  const histogram = new Histogram(poll, t("display.ratings"));
  area.append(histogram.root);
  return {
    update({ status, tally }) {
      histogram.root.classList.toggle("no-counts", !status.counts_visible);
      histogram.update(status.counts_visible ? tally : null);
    },
  };
}

export function presenter(area, poll) {
  const histogram = new Histogram(poll, t("presenter.live_ratings"));
  area.replaceChildren(histogram.root);
  return { update: ({ tally }) => histogram.update(tally) };
}

export function preview(poll) {
  const range = { min: poll.min, max: poll.max };
  const text = poll.labels
    ? t("preview.scale_labels", { ...range, low: poll.labels[0], high: poll.labels[1] })
    : t("preview.scale", range);
  return el("p", { class: "kind-preview", text });
}
