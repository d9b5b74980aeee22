// Presenter page: current and next slide, notes, clock, live results and every control.
// Several presenter tabs stay in step: each shows the state the server broadcasts.
import { startClock } from "/static/presenter/clock.js";
import { bindKeys } from "/static/presenter/keys.js";
import { announce, describeChange, Summary } from "/static/shared/announce.js";
import { baseUrl, el, flash, setDocumentLanguage } from "/static/shared/dom.js";
import { fitAll, keepFitted } from "/static/shared/fit.js";
import { language, number, plural, t, translatePage } from "/static/shared/i18n.js";
import { showConnection } from "/static/shared/indicator.js";
import { kindOf } from "/static/shared/kinds/index.js";
import { renderLeaderboard } from "/static/shared/leaderboard.js";
import { moderationQueue } from "/static/shared/qa.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";
import { pageKey } from "/static/shared/key.js";
import { load, save } from "/static/shared/store.js";

const $ = (id) => document.getElementById(id);
// The presenter's own words in the browser's language (the slides and notes keep the deck's).
translatePage();
const key = pageKey();
const tallies = new Map(); // poll id -> last tally
let state = null;
let presence = null;
const shown = { current: null, next: null };
let results = null; // {id, view}: the current poll's live results

// Slides.

function preview(slide) {
  const article = renderSlide(slide, { fit: true });
  if (slide.kind === "poll" && slide.poll) {
    article.querySelector(".poll-area").append(kindOf(slide.poll).preview(slide.poll));
  }
  if (slide.kind === "leaderboard") {
    renderLeaderboard(article.querySelector(".leaderboard-area"), state?.leaderboard);
  }
  return article;
}

function showFrame(name, slide) {
  const frame = $(name);
  const keyOf = slide ? JSON.stringify(slide) : "end";
  if (shown[name] === keyOf) return;
  shown[name] = keyOf;
  frame.replaceChildren(
    slide ? preview(slide) : el("p", { class: "frame-empty", text: t("presenter.end") }),
  );
  fitAll(frame);
}

function render() {
  const total = state.total;
  document.title = state.title ? t("presenter.page_titled", { title: state.title }) : t("presenter.page");
  setDocumentLanguage(state.lang, state.dir);
  $("deck-title").textContent = state.title || t("presenter.title");
  // The deck's title is in the deck's language; "Presenter" in the interface's.
  $("deck-title").lang = state.title ? state.lang || "" : language();
  $("position").textContent = t("announce.slide", { position: number(state.position + 1), total: number(total) });
  $("join-url").textContent = baseUrl(state.join?.url);
  $("join-code").textContent = state.join?.room ?? "";
  $("join-warning").hidden = !state.join?.warning;
  $("join-warning").textContent = state.join?.warning ? t("presenter.warning", { warning: state.join.warning }) : "";
  showFrame("current", state.slide);
  showFrame("next", state.next);
  $("notes").textContent = state.notes || t("presenter.no_notes");
  $("notes").classList.toggle("empty", !state.notes);
  const screen = [];
  if (state.blackout) screen.push(t("presenter.blacked_out"));
  if (state.join?.shown) screen.push(t("presenter.showing_join"));
  $("screen-state").textContent = screen.length ? t("presenter.screen_state", { what: screen.join(t("list.separator")) }) : "";
  $("current").classList.toggle("blacked-out", state.blackout);
  renderPoll();
  renderControls();
  renderPresence();
}

// Poll panel.

const STATUS_TEXT = { idle: "presenter.idle", open: "presenter.voting_open", closed: "presenter.voting_closed" };

function renderPoll() {
  const status = state.poll;
  const slidePoll = state.slide.poll;
  $("poll-panel").classList.toggle("no-poll", !status);
  if (!status || !slidePoll) {
    $("poll-status").textContent = t("presenter.no_poll");
    $("poll-status").dataset.status = "none";
    $("poll-visibility").textContent = "";
    $("poll-voters").textContent = "";
    $("results").replaceChildren();
    results = null;
    return;
  }
  $("poll-status").textContent = STATUS_TEXT[status.status] ? t(STATUS_TEXT[status.status]) : status.status;
  $("poll-status").dataset.status = status.status;
  let visibility;
  if (status.revealed) visibility = t("presenter.revealed");
  else if (status.results === "hidden") visibility = t("presenter.hidden");
  else visibility = t("presenter.live");
  $("poll-visibility").textContent = visibility;
  if (!results || results.id !== status.id) {
    const view = kindOf(slidePoll).presenter($("results"), slidePoll, { moderate });
    results = { id: status.id, view };
  }
  const tally = tallies.get(status.id);
  results.view.update({ status, tally });
  const voters = tally?.voters ?? 0;
  $("poll-voters").textContent = plural("presenter.voted", voters);
  // The count itself is not a live region (it changes with every vote): a summary at most
  // every 12 seconds.
  if (status.status === "open" && voters > 0) voterSummary.offer(plural("presenter.voted", voters));
}

const voterSummary = new Summary($("announcer"), 12000);

/** Hide, show or approve one item (a word, an answer, an idea) of the current poll, or
 * merge an idea `into` another. */
function moderate(action, item, into) {
  send(into ? { type: "moderate", action, item, into } : { type: "moderate", action, item });
}

function renderPresence() {
  if (!presence) return;
  const voters = state?.poll ? (tallies.get(state.poll.id)?.voters ?? 0) : null;
  const said = [plural("presenter.connected", presence.audience), plural("presenter.joined", presence.participants)];
  if (voters !== null) said.push(plural("presenter.voted", voters));
  said.push(plural("presenter.displays", presence.display));
  $("presence").textContent = said.join(" · ");
}

// Controls.

function renderControls() {
  const status = state.poll;
  const has = Boolean(status);
  $("btn-goto").disabled = false;
  $("btn-blackout").disabled = false;
  $("btn-join").disabled = false;
  $("btn-prev").disabled = state.position <= 0;
  $("btn-next").disabled = state.position >= state.total - 1;
  $("btn-open").disabled = !has || status.status === "open";
  $("btn-close").disabled = !has || status.status !== "open";
  $("btn-reveal").disabled = !has;
  $("btn-reveal").querySelector(".label").textContent = status?.revealed ? t("presenter.hide") : t("presenter.reveal");
  $("btn-reset").disabled = !has;
  $("btn-blackout").setAttribute("aria-pressed", String(Boolean(state.blackout)));
  $("btn-join").setAttribute("aria-pressed", String(Boolean(state.join?.shown)));
  // The talk's Q&A: its queue, and the overlay of top questions on the display (Q).
  $("btn-questions").hidden = !state.qa;
  $("btn-questions").disabled = !state.qa;
  $("btn-questions").setAttribute("aria-pressed", String(Boolean(state.qa?.overlay)));
  $("qa-queue").hidden = !state.qa;
}

function send(message) {
  if (!connection.send(message)) flash($("messages"), t("presenter.not_sent"));
}

const actions = {
  next: () => send({ type: "next" }),
  prev: () => send({ type: "prev" }),
  goto: () => openGoto(),
  open: () => send({ type: "open" }),
  close: () => send({ type: "close" }),
  "toggle-voting": () => (state?.poll?.status === "open" ? actions.close() : actions.open()),
  reveal: () => send({ type: state?.poll?.revealed ? "hide" : "reveal" }),
  reset: () => {
    if (window.confirm(t("presenter.confirm_reset"))) send({ type: "reset" });
  },
  blackout: () => send({ type: "blackout", on: !state?.blackout }),
  join: () => send({ type: "join_info", on: !state?.join?.shown }),
  questions: () => send({ type: "questions_overlay", on: !state?.qa?.overlay }),
};

const BUTTONS = {
  next: "btn-next",
  prev: "btn-prev",
  goto: "btn-goto",
  open: "btn-open",
  close: "btn-close",
  reveal: "btn-reveal",
  reset: "btn-reset",
  blackout: "btn-blackout",
  join: "btn-join",
  questions: "btn-questions",
};

// Poll commands from the keyboard go to the server even if this page's state looks stale:
// "→ then O" typed quickly must open the poll on the new slide, and the server (which applies
// commands in order) refuses with an error if there really is no poll.
const ALWAYS_FROM_KEYS = new Set(["open", "close", "toggle-voting", "reveal", "reset"]);

/** Run an action unless its button is disabled (or nothing is known yet). */
function run(action, fromKey = false) {
  const button = BUTTONS[action] ? $(BUTTONS[action]) : null;
  if (!state) return;
  if (button?.disabled && !(fromKey && ALWAYS_FROM_KEYS.has(action))) return;
  actions[action]();
}

for (const button of $("controls").querySelectorAll("button[data-action]")) {
  button.addEventListener("click", (event) => {
    run(button.dataset.action);
    // After a mouse click, give the keyboard back to the shortcuts (Space = next).
    if (event.detail > 0) button.blur();
  });
}
// Letter shortcuts can be turned off (speech input types letters); the choice is remembered.
const LETTERS_KEY = "handsup.presenter.letters";
$("letter-keys").checked = load(localStorage, LETTERS_KEY) !== false;
$("letter-keys").addEventListener("change", () => save(localStorage, LETTERS_KEY, $("letter-keys").checked));
bindKeys((action) => run(action, true), { letters: () => $("letter-keys").checked });

// Go to slide.

/** A slide kind ("poll", "quote"…) as the interface's language names it. */
function kindName(kind) {
  return t(`slide_kind.${kind}`) || kind;
}

function openGoto() {
  const select = $("goto-select");
  select.replaceChildren(
    ...state.outline.map((item) =>
      el("option", {
        value: item.index,
        text: t("presenter.goto_item", { n: number(item.index + 1), kind: kindName(item.kind), title: item.title || "" }).trim(),
      }),
    ),
  );
  select.value = String(state.position);
  $("goto-dialog").showModal();
  select.focus();
}

$("goto-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("goto-dialog").close();
  const index = Number($("goto-select").value);
  if (Number.isInteger(index) && index !== state?.position) send({ type: "goto", index });
});
// Enter on the list means "go" (a select does not submit its form by itself).
$("goto-select").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    $("goto-form").requestSubmit();
  }
});
$("goto-cancel").addEventListener("click", () => $("goto-dialog").close());

// Messages.

function showNotice(notice) {
  const box = $("notice");
  box.dataset.level = notice.level;
  box.replaceChildren(
    el("strong", { text: notice.message }),
    ...(notice.details?.length ? [el("ul", {}, ...notice.details.map((d) => el("li", { text: d })))] : []),
  );
  box.hidden = false;
  clearTimeout(box._timer);
  if (notice.level !== "error") box._timer = setTimeout(() => (box.hidden = true), 10000);
}

function onMessage(message) {
  switch (message.type) {
    case "state":
      announce($("announcer"), describeChange(state, message.state));
      state = message.state;
      render();
      break;
    case "tally":
      tallies.set(message.poll, message);
      if (state?.poll?.id === message.poll) {
        renderPoll();
        renderPresence();
      }
      break;
    case "presence":
      presence = message;
      renderPresence();
      break;
    case "error":
      flash($("messages"), message.message);
      break;
    case "notice":
      showNotice(message);
      break;
    case "questions":
      queue.update(message);
      break;
    default:
      break;
  }
}

const queue = moderationQueue($("qa-queue"), send);

const connection = new Connection("presenter", {
  hello: () => ({ type: "hello", key }),
  onMessage,
  onStatus: (status) => showConnection($("conn"), status),
  onFatal: () => {
    for (const button of $("controls").querySelectorAll("button")) button.disabled = true;
    flash($("messages"), t("presenter.bad_key"), 0);
  },
});
showConnection($("conn"), connection.status);
// Nothing to control until the first state arrives.
for (const button of $("controls").querySelectorAll("button")) button.disabled = true;
connection.start();
startClock($("clock"), $("clock-reset"));
keepFitted($("current"), () => $("current"));
keepFitted($("next"), () => $("next"));
window.handsup = { connection };
