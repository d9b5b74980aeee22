// The talk's Q&A on every screen: the phone's panel (ask, upvote, own questions marked), the
// display's board (pinned question or the top ones) and the presenter's moderation queue.
// Questions are the audience's text: always textContent, never HTML.
import { el, flash } from "/static/shared/dom.js";
import { number, plural, t } from "/static/shared/i18n.js";

const votesText = (n) => plural("qa.upvotes", n);
const QA_ERRORS = new Set(["own_question", "unknown_question", "qa_off"]);
// How a question's state reads ("approved" goes without saying on the phone).
const stateText = (state) => (state === "approved" ? "" : t(`qa.state.${state}`));

function questionBody(item) {
  return [
    el("p", { class: "qa-text", text: item.text }),
    item.name ? el("p", { class: "qa-name", text: item.name }) : null,
  ];
}

/** The display's board: the pinned question large, else the top `limit` approved ones. */
export function renderBoard(container, message, limit = 5) {
  if (!container) return;
  const pinned = message?.pinned;
  const top = message?.top ?? [];
  if (pinned) {
    container.replaceChildren(
      el("div", { class: "qa-pinned" }, el("p", { class: "qa-label", text: t("qa.label") }), ...questionBody(pinned)),
    );
    return;
  }
  if (!top.length) {
    container.replaceChildren(el("p", { class: "qa-empty", text: t("qa.empty") }));
    return;
  }
  const list = el("ol", { class: "qa-board" });
  for (const item of top.slice(0, limit)) {
    list.append(
      el(
        "li",
        { class: `qa-item ${item.state}` },
        el("span", { class: "qa-votes", text: number(item.votes), "aria-label": votesText(item.votes) }),
        el("div", { class: "qa-body" }, ...questionBody(item)),
      ),
    );
  }
  container.replaceChildren(list);
}

/** The phone's Q&A: a button that opens a panel to ask and to upvote. */
export class PhoneQa {
  constructor(root, send) {
    this.send = send;
    this.settings = null;
    this.top = [];
    this.mine = { asked: [], upvoted: [] };
    this.unsent = null; // a question not yet acknowledged: sent again, same id, on reconnect
    // By question id, the upvote (or taking back) the server has not acknowledged yet: shown
    // as pressed (or not) but unconfirmed, and sent again, same id, on reconnect.
    this.upvoting = new Map();
    this.toggle = el("button", { type: "button", class: "qa-toggle", "aria-expanded": "false", "aria-controls": "qa-panel", text: t("qa.title") });
    this.text = el("textarea", { id: "qa-text", name: "question", maxlength: "280", rows: "3", required: true });
    this.name = el("input", { id: "qa-name", name: "name", type: "text", maxlength: "40", autocomplete: "nickname" });
    this.nameField = el("p", { class: "qa-field" }, el("label", { for: "qa-name", text: t("qa.name") }), this.name);
    this.status = el("p", { class: "qa-status", role: "status", "aria-live": "polite" });
    this.form = el(
      "form",
      { class: "qa-form", novalidate: true },
      el("p", { class: "qa-field" }, el("label", { for: "qa-text", text: t("qa.text") }), this.text),
      this.nameField,
      el("button", { type: "submit", class: "primary", text: t("qa.ask") }),
    );
    this.mineList = el("ol", { class: "qa-list qa-mine", "aria-label": t("qa.mine") });
    this.list = el("ol", { class: "qa-list", "aria-label": t("qa.list") });
    this.panel = el(
      "section",
      { id: "qa-panel", class: "qa-panel", "aria-labelledby": "qa-title", hidden: true },
      el("h2", { id: "qa-title", text: t("qa.title") }),
      this.form,
      this.status,
      this.mineList,
      this.list,
    );
    root.append(this.toggle, this.panel);
    this.toggle.hidden = true;
    this.toggle.addEventListener("click", () => this.open(this.panel.hidden));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask();
    });
  }

  open(on) {
    this.panel.hidden = !on;
    this.toggle.setAttribute("aria-expanded", String(on));
    this.toggle.textContent = on ? t("qa.back") : t("qa.title");
    document.body.classList.toggle("qa-open", on);
    if (on) this.text.focus();
  }

  setSettings(qa) {
    this.settings = qa;
    this.toggle.hidden = !qa;
    document.body.classList.toggle("has-qa", Boolean(qa)); // room below for the floating button
    if (!qa && !this.panel.hidden) this.open(false);
    this.nameField.hidden = Boolean(qa?.anonymous);
  }

  ask() {
    const text = this.text.value.trim();
    if (!text) {
      flash(this.status, t("qa.type_first"));
      return;
    }
    const message = { type: "ask", text, ask_id: `a${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}` };
    const name = this.name.value.trim();
    if (name && !this.settings?.anonymous) message.name = name;
    this.unsent = message;
    this.send(message);
    flash(this.status, t("vote.sending"), 0);
  }

  /** On a `layout: questions` slide: a button into the panel where the slide's list is. */
  offer(area) {
    if (!area || !this.settings) return;
    const button = el("button", { type: "button", class: "primary qa-offer", text: t("qa.offer") });
    button.addEventListener("click", () => this.open(true));
    area.replaceChildren(button);
  }

  /** After a reconnect: a question or upvote the server never acknowledged goes again, same id. */
  resend() {
    if (this.unsent) this.send(this.unsent);
    for (const upvote of this.upvoting.values()) this.send(upvote);
  }

  upvote(question, on) {
    const message = { type: "upvote", question, on, upvote_id: `u${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}` };
    this.upvoting.set(question, message);
    this.send(message);
    this.render();
  }

  onMessage(message) {
    switch (message.type) {
      case "questions":
        this.top = message.top;
        this.render();
        return true;
      case "my_questions":
        this.mine = message;
        this.render();
        return true;
      case "ask_ack":
        if (this.unsent?.ask_id === message.ask_id) {
          this.unsent = null;
          this.text.value = "";
          const held = this.settings?.moderation === "before";
          flash(this.status, held ? t("qa.sent_held") : t("qa.sent"));
        }
        return true;
      case "upvote_ack": {
        // Confirmed (durable): the button stops saying "sending", before the phone's own
        // list, which the server sends less often in a big room, catches up.
        const sent = this.upvoting.get(message.question);
        if (sent?.upvote_id === message.upvote_id) {
          this.upvoting.delete(message.question);
          const upvoted = new Set(this.mine.upvoted);
          if (message.on) upvoted.add(message.question);
          else upvoted.delete(message.question);
          this.mine = { ...this.mine, upvoted: [...upvoted] };
          this.render();
        }
        return true;
      }
      case "error":
        for (const [question, sent] of this.upvoting) {
          if (message.ref !== sent.upvote_id) continue;
          this.upvoting.delete(question);
          this.render();
          flash(this.status, message.message);
          return true;
        }
        if (this.unsent && message.ref === this.unsent.ask_id) {
          this.unsent = null;
          flash(this.status, message.message);
          return true;
        }
        if (!QA_ERRORS.has(message.code)) return false;
        flash(this.status, message.message);
        return true;
      default:
        return false;
    }
  }

  render() {
    const upvoted = new Set(this.mine.upvoted);
    const mineIds = new Set(this.mine.asked.map((q) => q.id));
    this.mineList.replaceChildren(
      ...this.mine.asked.map((q) =>
        el(
          "li",
          { class: `qa-item mine ${q.state}`, "data-id": q.id },
          el("div", { class: "qa-body" }, ...questionBody(q), el("p", { class: "qa-state", text: t("qa.yours", { what: stateText(q.state) || votesText(q.votes) }) })),
        ),
      ),
    );
    this.list.replaceChildren(
      ...this.top.map((q) => {
        const mine = mineIds.has(q.id);
        const sending = this.upvoting.get(q.id);
        const on = sending ? sending.on : upvoted.has(q.id);
        const button = el("button", {
          type: "button",
          class: "qa-upvote",
          "aria-pressed": String(on),
          "aria-busy": sending ? "true" : false,
          "aria-label": t(on ? "qa.unvote" : "qa.upvote", { votes: votesText(q.votes) }),
          disabled: mine,
          text: `▲ ${number(q.votes)}`,
        });
        button.addEventListener("click", () => this.upvote(q.id, !on));
        return el(
          "li",
          { class: `qa-item ${q.state}${mine ? " mine" : ""}${on ? " upvoted" : ""}`, "data-id": q.id },
          button,
          el("div", { class: "qa-body" }, ...questionBody(q), q.state === "answered" ? el("p", { class: "qa-state", text: t("qa.state.answered") }) : null),
        );
      }),
    );
  }
}

/**
 * The presenter's (or a moderator's) queue: pending questions to approve or dismiss, approved
 * ones to mark answered or pin. Keyboard: ↑/↓ or K/J pick, A approve, D dismiss, N answered,
 * P pin (again: unpin). Returns {update(message)}.
 */
export function moderationQueue(container, send) {
  const heading = el("h2", { class: "panel-title", id: "qa-queue-title", text: t("qa.title") });
  const list = el("ol", { class: "qa-queue", "aria-labelledby": "qa-queue-title", tabindex: "0" });
  const help = el("p", { class: "qa-help", text: t("qa.keys") });
  container.replaceChildren(heading, help, list);
  let items = [];
  let pinned = null;
  let picked = 0;

  const act = (action, item) => send({ type: "moderate_question", action, question: item.id });

  function draw() {
    picked = Math.min(picked, Math.max(0, items.length - 1));
    list.replaceChildren(
      ...items.map((item, index) => {
        const buttons =
          item.state === "pending"
            ? [["approve", t("qa.approve")], ["dismiss", t("qa.dismiss")]]
            : [["answer", t("qa.state.answered")], [pinned === item.id ? "unpin" : "pin", pinned === item.id ? t("qa.unpin") : t("qa.pin")], ["dismiss", t("qa.dismiss")]];
        return el(
          "li",
          { class: `qa-item ${item.state}${pinned === item.id ? " pinned" : ""}`, "data-id": item.id, "aria-current": index === picked ? "true" : false },
          el("span", { class: "qa-votes", text: number(item.votes) }),
          el("div", { class: "qa-body" }, ...questionBody(item), el("p", { class: "qa-state", text: t(`qa.state.${item.state}`) })),
          el(
            "span",
            { class: "qa-actions" },
            ...buttons.map(([action, label]) => {
              const button = el("button", { type: "button", class: "small", "data-action": action, text: label });
              button.addEventListener("click", () => act(action, item));
              return button;
            }),
          ),
        );
      }),
    );
    heading.textContent = t("qa.queue_title", { waiting: plural("qa.waiting", items.filter((i) => i.state === "pending").length) });
  }

  list.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || !items.length) return;
    const key = event.key.toLowerCase();
    const item = items[picked];
    const moves = { arrowdown: 1, j: 1, arrowup: -1, k: -1 };
    if (key in moves) picked = Math.max(0, Math.min(items.length - 1, picked + moves[key]));
    else if (key === "a" && item.state === "pending") act("approve", item);
    else if (key === "d") act("dismiss", item);
    else if (key === "n" && item.state === "approved") act("answer", item);
    else if (key === "p" && item.state !== "pending") act(pinned === item.id ? "unpin" : "pin", item);
    else return;
    event.preventDefault();
    event.stopPropagation();
    draw();
  });

  return {
    update(message) {
      pinned = message.pinned?.id ?? null;
      items = [...(message.pending ?? []), ...message.top];
      draw();
    },
  };
}
