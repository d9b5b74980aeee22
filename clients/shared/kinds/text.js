// Open text: phones write short answers; the projector shows a wall the presenter curates
// (with `moderation: before`, an answer shows only once approved).
import { el } from "/static/shared/dom.js";

export function wire(poll, value, voteId) {
  return { type: "answer", poll: poll.id, answer: value, vote_id: voteId };
}

export function describe(poll, value) {
  return Array.isArray(value) ? value.join(" · ") : String(value ?? "");
}

export function confirmed(poll, value) {
  const n = Array.isArray(value) ? value.length : 1;
  return n === 1 ? "Your answer is in ✓" : `Your ${n} answers are in ✓`;
}

export function full(poll, recorded) {
  return Array.isArray(recorded) && recorded.length >= poll.answers;
}

function wall(items, label) {
  return el(
    "ul",
    { class: "wall", "aria-label": label },
    ...(items || []).filter((item) => item.state === "shown").map((item) => el("li", { class: "wall-card", text: item.text })),
  );
}

export function audience(area, poll, { answer }) {
  const box = el("textarea", {
    id: `text-${poll.id}`,
    maxlength: String(poll.max_length),
    rows: "3",
    "aria-describedby": `text-help-${poll.id}`,
  });
  const button = el("button", { type: "submit", class: "primary", text: "Send" });
  const help = el("p", { id: `text-help-${poll.id}`, class: "entry-help" });
  const form = el(
    "form",
    { class: "entry-form text-form" },
    el("label", { for: box.id, text: "Your answer" }),
    box,
    help,
    button,
  );
  const mineList = el("ul", { class: "my-entries", "aria-label": "Your answers" });
  const results = el("section", { class: "results", "aria-label": "Answers", hidden: true });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return;
    answer(text);
    box.value = "";
  });
  box.addEventListener("input", () => {
    help.textContent = `${box.value.length} of ${poll.max_length} characters`;
  });
  area.append(form, mineList, results);
  return {
    prompt: () => "Voting is open: write your answer",
    lockedNote: poll.answers === 1 ? "You have sent your answer." : "You have sent all your answers.",
    update({ status, tally, mine, canAnswer }) {
      const sent = Array.isArray(mine) ? mine : mine ? [mine] : [];
      box.disabled = !canAnswer;
      button.disabled = !canAnswer;
      form.hidden = status.status !== "open" || !canAnswer;
      if (!box.value) help.textContent = `At most ${poll.max_length} characters`;
      mineList.replaceChildren(...sent.map((text) => el("li", { text })));
      const visible = status.revealed && status.counts_visible;
      results.hidden = !visible;
      if (visible) results.replaceChildren(el("h2", { class: "results-title", text: "Answers" }), wall(tally?.items, "Answers"));
    },
  };
}

export function display(area, poll) {
  const holder = el("div", { class: "wall-holder" });
  area.append(holder);
  let shown = "";
  return {
    update({ status, tally }) {
      const items = status.counts_visible ? tally?.items || [] : [];
      const key = JSON.stringify(items);
      if (key === shown) return;
      shown = key;
      holder.replaceChildren(wall(items, "Answers from the room"));
    },
  };
}

const ACTIONS = { pending: [["approve", "Approve"], ["hide", "Hide"]], shown: [["hide", "Hide"]], hidden: [["show", "Show"]] };

export function presenter(area, poll, { moderate }) {
  const list = el("ol", { class: "moderation", "aria-label": "Answers" });
  area.replaceChildren(list);
  return {
    update({ tally }) {
      const items = [...(tally?.items || [])].reverse(); // newest first
      list.replaceChildren(
        ...items.map((item) =>
          el(
            "li",
            { class: `moderation-item state-${item.state}`, "data-item": item.id },
            el("span", { class: "moderation-text", text: item.text }),
            el("span", { class: "moderation-state", text: item.state }),
            ...ACTIONS[item.state].map(([action, label]) => {
              const button = el("button", { type: "button", class: "small", text: label });
              button.addEventListener("click", () => moderate(action, item.id));
              return button;
            }),
          ),
        ),
      );
      if (!items.length) list.append(el("li", { class: "moderation-empty", text: "No answers yet." }));
    },
  };
}

export function preview(poll) {
  const how = poll.moderation === "before" ? "shown once you approve them" : "shown as they arrive";
  return el("p", { class: "kind-preview", text: `Open question: answers ${how}` });
}
