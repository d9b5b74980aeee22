// Poll results as horizontal bars: letter, option text, count and share; widths animate (CSS).
import { el, letter } from "/static/shared/dom.js";
import { number, percent, t } from "/static/shared/i18n.js";

export class Bars {
  #fresh = true;

  /** @param {string[]} options the poll's option texts */
  constructor(options, { label = "Results" } = {}) {
    this.rows = options.map((text, index) => {
      const fill = el("span", { class: "bar-fill" });
      const count = el("bdi", { class: "bar-count" });
      const tag = el("span", { class: "bar-tag" });
      const row = el(
        "li",
        { class: "bar-row", "data-option": index },
        el("span", { class: "bar-letter", text: letter(index) }),
        el("span", { class: "bar-label" }, el("span", { class: "bar-text", dir: "auto", text }), tag),
        count,
        el("span", { class: "bar-track", "aria-hidden": "true" }, fill),
      );
      return { row, fill, count, tag };
    });
    this.root = el("ol", { class: "bars", "aria-label": label }, ...this.rows.map((r) => r.row));
  }

  /**
   * Show counts (null: options only, no bars), the correct option (index or null) and this
   * person's own choice (index or null). Insert `root` into the page before the first update
   * so the bars grow from zero.
   */
  update({ counts = null, correct = null, mine = null } = {}) {
    if (this.#fresh && this.root.isConnected) void this.root.offsetWidth;
    this.#fresh = false;
    const total = counts ? counts.reduce((sum, n) => sum + n, 0) : 0;
    this.root.classList.toggle("no-counts", !counts);
    this.rows.forEach(({ row, fill, count, tag }, index) => {
      const votes = counts?.[index] ?? 0;
      const share = total ? votes / total : 0;
      count.textContent = counts ? t("bar.count", { votes: number(votes), share: percent(share) }) : "";
      fill.style.width = `${(share * 100).toFixed(2)}%`;
      const isCorrect = correct === index;
      row.classList.toggle("correct", isCorrect);
      row.classList.toggle("mine", mine === index);
      const tags = [];
      if (isCorrect) tags.push(t("bar.correct"));
      if (mine === index) tags.push(t("bar.yours"));
      tag.textContent = tags.join(" · ");
    });
  }
}
