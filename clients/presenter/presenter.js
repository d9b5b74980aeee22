// Presenter page: current and next slide, notes, clock, live results and every control.
// Several presenter tabs stay in step: each shows the state the server broadcasts.
import { startClock } from "/static/presenter/clock.js";
import { bindKeys } from "/static/presenter/keys.js";
import { announce, describeChange, Summary } from "/static/shared/announce.js";
import { baseUrl, el, flash, setDocumentLanguage } from "/static/shared/dom.js";
import { fitAll, keepFitted } from "/static/shared/fit.js";
import { showConnection } from "/static/shared/indicator.js";
import { kindOf } from "/static/shared/kinds/index.js";
import { renderLeaderboard } from "/static/shared/leaderboard.js";
import { moderationQueue } from "/static/shared/qa.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";
import { load, save } from "/static/shared/store.js";

const $ = (id) => document.getElementById(id);
const key = new URLSearchParams(location.search).get("key") || "";
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
    slide ? preview(slide) : el("p", { class: "frame-empty", text: "End of the deck" }),
  );
  fitAll(frame);
}

function render() {
  const total = state.total;
  document.title = state.title ? `Presenter · ${state.title}` : "Presenter · handsup";
  setDocumentLanguage(state.lang, state.dir);
  $("deck-title").textContent = state.title || "Presenter";
  $("position").textContent = `Slide ${state.position + 1} of ${total}`;
  $("join-url").textContent = baseUrl(state.join?.url);
  $("join-code").textContent = state.join?.room ?? "";
  $("join-warning").hidden = !state.join?.warning;
  $("join-warning").textContent = state.join?.warning ? `Warning: ${state.join.warning}` : "";
  showFrame("current", state.slide);
  showFrame("next", state.next);
  $("notes").textContent = state.notes || "No notes for this slide.";
  $("notes").classList.toggle("empty", !state.notes);
  const screen = [];
  if (state.blackout) screen.push("blacked out");
  if (state.join?.shown) screen.push("showing join instructions");
  $("screen-state").textContent = screen.length ? `(${screen.join(", ")})` : "";
  $("current").classList.toggle("blacked-out", state.blackout);
  renderPoll();
  renderControls();
  renderPresence();
}

// Poll panel.

const STATUS_TEXT = { idle: "Not open yet", open: "Voting open", closed: "Voting closed" };

function renderPoll() {
  const status = state.poll;
  const slidePoll = state.slide.poll;
  $("poll-panel").classList.toggle("no-poll", !status);
  if (!status || !slidePoll) {
    $("poll-status").textContent = "No poll on this slide";
    $("poll-status").dataset.status = "none";
    $("poll-visibility").textContent = "";
    $("poll-voters").textContent = "";
    $("results").replaceChildren();
    results = null;
    return;
  }
  $("poll-status").textContent = STATUS_TEXT[status.status] ?? status.status;
  $("poll-status").dataset.status = status.status;
  let visibility;
  if (status.revealed) visibility = "Results revealed to everyone";
  else if (status.results === "hidden") visibility = "Results hidden from the display";
  else visibility = "Live results on the display; phones see them when revealed";
  $("poll-visibility").textContent = visibility;
  if (!results || results.id !== status.id) {
    const view = kindOf(slidePoll).presenter($("results"), slidePoll, { moderate });
    results = { id: status.id, view };
  }
  const tally = tallies.get(status.id);
  results.view.update({ status, tally });
  const voters = tally?.voters ?? 0;
  $("poll-voters").textContent = `${voters} voted`;
  // The count itself is not a live region (it changes with every vote): a summary at most
  // every 12 seconds.
  if (status.status === "open" && voters > 0) voterSummary.offer(`${voters} voted`);
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
  const displays = `${presence.display} ${presence.display === 1 ? "display" : "displays"}`;
  const voted = voters === null ? "" : ` · ${voters} voted`;
  $("presence").textContent =
    `${presence.audience} connected · ${presence.participants} joined${voted} · ${displays}`;
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
  $("btn-reveal").querySelector(".label").textContent = status?.revealed ? "Hide results" : "Reveal results";
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
  if (!connection.send(message)) flash($("messages"), "Not connected: the command was not sent.");
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
    if (window.confirm("Reset this poll? All its votes are deleted.")) send({ type: "reset" });
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

function openGoto() {
  const select = $("goto-select");
  select.replaceChildren(
    ...state.outline.map((item) =>
      el("option", { value: item.index, text: `${item.index + 1}. (${item.kind}) ${item.title || ""}` }),
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
    flash($("messages"), "The presenter key is missing or wrong: open the presenter URL printed at start-up.", 0);
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
