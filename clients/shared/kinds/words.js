// Word cloud: phones send a few words each; the projector draws them sized by how many sent
// each; the presenter can hide a word from every screen.
import { el } from "/static/shared/dom.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

export function describe(poll, value) {
  return Array.isArray(value) ? value.join(", ") : "";
}

export function confirmed(poll, value) {
  const n = Array.isArray(value) ? value.length : 0;
  return `${n === 1 ? "Your word is" : "Your words are"} in ✓ (${describe(poll, value)})`;
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
        node = el("li", { class: "cloud-word", "data-word": item.id }, el("span", { class: "cloud-text" }), el("span", { class: "cloud-count" }));
        node.querySelector(".cloud-text").textContent = item.text;
        this.words.set(item.id, node);
        // New words take the next place; known ones never move.
        this.root.append(node);
      }
      node.style.setProperty("--weight", (item.count / top).toFixed(3));
      node.querySelector(".cloud-count").textContent = ` ${item.count}`;
    }
    this.root.classList.toggle("empty", shown.length === 0);
  }
}

export function audience(area, poll, { answer }) {
  const input = el("input", {
    id: `words-${poll.id}`,
    type: "text",
    maxlength: String(poll.max_length),
    autocomplete: "off",
    enterkeyhint: "send",
    "aria-describedby": `words-help-${poll.id}`,
  });
  const button = el("button", { type: "submit", class: "primary", text: "Send" });
  const help = el("p", { id: `words-help-${poll.id}`, class: "entry-help" });
  const form = el(
    "form",
    { class: "entry-form words-form" },
    el("label", { for: input.id, text: "Your word or short phrase" }),
    el("div", { class: "entry-row" }, input, button),
    help,
  );
  const mineList = el("ul", { class: "my-entries", "aria-label": "Your words" });
  const results = el("section", { class: "results", "aria-label": "Results", hidden: true });
  const cloud = new Cloud("The room's words");
  results.append(el("h2", { class: "results-title", text: "The room's words" }), cloud.root);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const word = input.value.trim();
    if (!word) return;
    answer([word]);
    input.value = "";
  });
  area.append(form, mineList, results);
  return {
    prompt: () => "Voting is open: send a word",
    lockedNote: "You have sent all your words.",
    update({ status, tally, mine, canAnswer }) {
      const sent = Array.isArray(mine) ? mine : [];
      input.disabled = !canAnswer;
      button.disabled = !canAnswer;
      form.hidden = status.status !== "open" && !sent.length;
      help.textContent = `${sent.length} of ${poll.entries} sent · at most ${poll.max_length} characters each`;
      mineList.replaceChildren(...sent.map((word) => el("li", { text: word })));
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (visible) cloud.update(tally?.items);
    },
  };
}

export function display(area, poll) {
  const cloud = new Cloud("Words from the room");
  area.append(cloud.root);
  return {
    update({ status, tally }) {
      cloud.update(status.counts_visible ? tally?.items : []);
    },
  };
}

export function presenter(area, poll, { moderate }) {
  const list = el("ul", { class: "moderation", "aria-label": "Words" });
  area.replaceChildren(list);
  return {
    update({ tally }) {
      const items = tally?.items || [];
      list.replaceChildren(
        ...items.map((item) => {
          const hidden = item.state === "hidden";
          const button = el("button", { type: "button", class: "small", text: hidden ? "Show" : "Hide" });
          button.addEventListener("click", () => moderate(hidden ? "show" : "hide", item.id));
          return el(
            "li",
            { class: `moderation-item state-${item.state}`, "data-word": item.id },
            el("span", { class: "moderation-text", text: item.text }),
            el("span", { class: "moderation-count", text: String(item.count) }),
            button,
          );
        }),
      );
      if (!items.length) list.append(el("li", { class: "moderation-empty", text: "No words yet." }));
    },
  };
}

export function preview(poll) {
  return el("p", { class: "kind-preview", text: `Word cloud: up to ${poll.entries} words from each person` });
}
