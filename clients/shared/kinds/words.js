// Word cloud: phones send a few words each; the projector draws them sized by how many sent
// each; the presenter can hide a word from every screen.
import { el } from "/static/shared/dom.js";
import { fitText } from "/static/shared/fit.js";
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
  return Array.isArray(value) ? value.join(", ") : "";
}

export function confirmed(poll, value) {
  const n = Array.isArray(value) ? value.length : 0;
  return plural("words.in", n, { words: describe(poll, value) });
}

/** Entries given so far and new ones, each once (as the server counts them: case-folded). */
export function merge(poll, earlier, more) {
  const all = [...(Array.isArray(earlier) ? earlier : []), ...(Array.isArray(more) ? more : [])];
  const seen = new Set();
  return all.filter((word) => {
    const key = word.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every entry sent: nothing more to add. */
export function full(poll, recorded) {
  return Array.isArray(recorded) && recorded.length >= poll.entries;
}

/** A cloud that keeps each word where it first appeared, sized by its share of the top count. */
class Cloud {
  constructor(label) {
    this.root = el("ul", { class: "cloud", "aria-label": label });
    this.words = new Map(); // id -> <li>
    this.places = new Map(); // id -> when first seen: a word shown again goes back to its place
  }

  update(items) {
    const shown = (items || []).filter((item) => item.state === "shown");
    const top = Math.max(1, ...shown.map((item) => item.count));
    const keep = new Set(shown.map((item) => item.id));
    for (const [id, node] of this.words) {
      if (!keep.has(id)) {
        node.remove();
        this.words.delete(id);
      }
    }
    for (const item of shown) {
      let node = this.words.get(item.id);
      if (!node) {
        // New words take the next place; known ones never move, and one that was hidden (or
        // out of the top words) for a while comes back where it was.
        if (!this.places.has(item.id)) this.places.set(item.id, this.places.size);
        const place = this.places.get(item.id);
        node = el(
          "li",
          { class: "cloud-word", "data-word": item.id, "data-hue": place % 5 },
          el("span", { class: "cloud-text", dir: "auto", text: item.text }),
          el("span", { class: "cloud-count" }),
        );
        this.words.set(item.id, node);
        const after = [...this.root.children].find((other) => this.places.get(other.dataset.word) > place);
        this.root.insertBefore(node, after ?? null);
      }
      node.style.setProperty("--weight", (item.count / top).toFixed(3));
      node.querySelector(".cloud-count").textContent = String(item.count);
      node.setAttribute("aria-label", `${item.text}: ${item.count}`);
    }
    this.root.classList.toggle("empty", shown.length === 0);
  }
}

export function audience(area, poll, { answer }) {
  const input = el("input", {
    id: `words-${poll.id}`,
    dir: "auto",
    type: "text",
    maxlength: String(poll.max_length),
    autocomplete: "off",
    enterkeyhint: "send",
    "aria-describedby": `words-help-${poll.id}`,
  });
  const button = el("button", { type: "submit", class: "primary", text: t("text.send") });
  const help = el("p", { id: `words-help-${poll.id}`, class: "entry-help" });
  const form = el(
    "form",
    { class: "entry-form words-form" },
    el("label", { for: input.id, text: t("words.label") }),
    el("div", { class: "entry-row" }, input, button),
    help,
  );
  const mineList = el("ul", { class: "my-entries", "aria-label": t("text.sent") });
  const results = el("section", { class: "results", "aria-label": t("results"), hidden: true });
  const cloud = new Cloud(t("words.title"));
  results.append(el("h2", { class: "results-title", text: t("words.title") }), cloud.root);
  // The box empties only once the server has the word: one refused (too fast, too long)
  // stays there, with the reason, to be sent again.
  let sentCount = 0;
  const usual = () =>
    t("words.help", { sent: number(sentCount), entries: number(poll.entries), max: number(poll.max_length) });
  const entry = new Entry(input, help, usual);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const word = input.value.trim();
    if (!word) return;
    entry.sent(answer([word]));
  });
  input.addEventListener("input", () => entry.edited());
  area.append(form, mineList, results);
  return {
    prompt: () => t("poll.open_words"),
    lockedNote: t("words.locked"),
    settled: (voteId, problem) => entry.settled(voteId, problem),
    update({ status, tally, mine, canAnswer, full: done }) {
      const sent = Array.isArray(mine) ? mine : [];
      input.disabled = !canAnswer;
      button.disabled = !canAnswer;
      // Shown (disabled) until voting opens, so people see what is coming; gone once closed or
      // once every entry is in.
      form.hidden = status.status === "closed" || done;
      sentCount = sent.length;
      if (!entry.problem) help.textContent = usual();
      mineList.replaceChildren(...sent.map((word) => el("li", { dir: "auto", text: word })));
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (visible) cloud.update(tally?.items);
    },
  };
}

export function display(area, poll) {
  const cloud = new Cloud(t("display.words"));
  // The cloud takes the room the slide leaves it, and its type shrinks as words arrive so
  // that all of them (at most 50) stay on the screen.
  const holder = el("div", { class: "cloud-holder" }, cloud.root);
  area.append(holder);
  const fit = () => fitText(holder, 1, 0.3);
  new ResizeObserver(fit).observe(holder);
  return {
    update({ status, tally }) {
      cloud.update(status.counts_visible ? tally?.items : []);
      fit();
    },
  };
}

export function presenter(area, poll, { moderate }) {
  const list = new ModerationList(t("presenter.words"), t("presenter.no_words"), moderate);
  area.replaceChildren(list.root);
  return {
    update({ tally }) {
      list.update(
        (tally?.items || []).map((item) => ({
          id: item.id,
          text: item.text,
          state: item.state,
          stateText: item.state === "hidden" ? t("moderate.hidden") : "",
          count: item.count,
          actions: item.state === "hidden" ? [["show", t("moderate.show")]] : [["hide", t("moderate.hide")]],
        })),
      );
    },
  };
}

export function preview(poll) {
  return el("p", { class: "kind-preview", text: plural("preview.words", poll.entries) });
}
