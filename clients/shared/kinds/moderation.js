// The presenter's list of a poll's items (words, answers) with a button per thing to do.
// Items are kept by id and updated in place, so a presenter working through the list with the
// keyboard keeps their place while answers arrive: the focused button is never rebuilt or
// moved, and when an action replaces it (Approve becomes Hide), the item's new button takes
// the focus.
import { el } from "/static/shared/dom.js";
import { plural } from "/static/shared/i18n.js";

let made = 0; // for ids that tie each item's buttons to its text

export class ModerationList {
  /**
   * @param {string} label the list's accessible name
   * @param {string} empty what the list says while there is nothing in it
   * @param {(action: string, id: string) => void} moderate sends an action for an item
   */
  constructor(label, empty, moderate) {
    this.root = el("ol", { class: "moderation", "aria-label": label });
    this.empty = el("li", { class: "moderation-empty", text: empty });
    this.moderate = moderate;
    this.rows = new Map(); // id -> {li, text, state, count, buttons, key}
    this.root.append(this.empty);
  }

  /**
   * Show these items, in this order. Each: {id, text, state (a class), stateText, count
   * (or null), actions: [[action, label], ...]}.
   */
  update(items) {
    const focused = document.activeElement;
    const keep = new Set(items.map((item) => item.id));
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    let at = this.root.firstChild;
    for (const item of items) {
      const row = this.rows.get(item.id) ?? this.#row(item);
      this.#fill(row, item, focused);
      // Only what is out of place moves (a moved node loses the focus).
      if (row.li === at) at = at.nextSibling;
      else this.root.insertBefore(row.li, at);
    }
    this.empty.hidden = items.length > 0;
    if (this.empty !== this.root.lastChild) this.root.append(this.empty);
    if (focused?.isConnected && focused !== document.activeElement) focused.focus();
  }

  #row(item) {
    made += 1;
    const text = el("span", { class: "moderation-text", dir: "auto", id: `moderation-item-${made}` });
    const state = el("span", { class: "moderation-state" });
    const count = el("span", { class: "moderation-count" });
    const buttons = el("span", { class: "moderation-actions" });
    const li = el("li", { class: "moderation-item", "data-item": item.id }, text, state, count, buttons);
    const row = { li, text, state, count, buttons, key: "" };
    this.rows.set(item.id, row);
    return row;
  }

  #fill(row, item, focused) {
    row.li.className = `moderation-item state-${item.state}`;
    row.text.textContent = item.text;
    row.state.textContent = item.stateText ?? "";
    row.state.hidden = !item.stateText;
    row.count.hidden = item.count === null || item.count === undefined;
    row.count.textContent = row.count.hidden ? "" : String(item.count);
    if (!row.count.hidden) row.count.setAttribute("aria-label", item.countLabel ?? plural("moderate.sent_by", item.count));
    const key = JSON.stringify(item.actions);
    if (key === row.key) return;
    row.key = key;
    const hadFocus = row.buttons.contains(focused);
    row.buttons.replaceChildren(
      ...item.actions.map(([action, label]) => {
        const button = el("button", {
          type: "button",
          class: "small",
          "data-moderate": action,
          text: label,
          "aria-describedby": row.text.id,
        });
        button.addEventListener("click", () => this.moderate(action, item.id));
        return button;
      }),
    );
    if (hadFocus) row.buttons.querySelector("button")?.focus();
  }
}
