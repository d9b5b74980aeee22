// Phone page: join a room by code, follow the slides, vote on polls (a vote made offline is
// kept and resent with the same id), see the results once the presenter reveals them.
import { Bars } from "/static/shared/bars.js";
import { el, flash, letter } from "/static/shared/dom.js";
import { showConnection } from "/static/shared/indicator.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";
import { load, save } from "/static/shared/store.js";
import { VoteBook } from "/static/audience/votes.js";

const ROOM_KEY = "handsup.room";
const $ = (id) => document.getElementById(id);

const normalise = (code) => String(code || "").replace(/\s+/g, "").toUpperCase();
const tokenKey = () => `handsup.participant.${room}`;

let room = normalise(new URLSearchParams(location.search).get("room") || load(localStorage, ROOM_KEY, ""));
let connection = null;
let book = null;
let state = null;
let shownKey = null;
let poll = null; // the poll slide's parts: {id, line, list, buttons, results, bars}
const tallies = new Map(); // poll id -> last tally
const statuses = new Map(); // poll id -> last status seen, to notice a reset

function setRoomInUrl(code) {
  const url = new URL(location.href);
  if (code) url.searchParams.set("room", code);
  else url.searchParams.delete("room");
  history.replaceState(null, "", url);
}

// Joining.

function showJoin(message = "") {
  $("live").hidden = true;
  $("join").hidden = false;
  $("change-room").hidden = true;
  $("room-label").textContent = "";
  $("join-error").textContent = message;
  const input = $("room-input");
  input.value = room;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  input.focus();
  document.title = "Join · handsup";
}

function join(code) {
  room = normalise(code);
  save(localStorage, ROOM_KEY, room);
  setRoomInUrl(room);
  book = new VoteBook(room);
  state = null;
  shownKey = null;
  poll = null;
  tallies.clear();
  statuses.clear();
  $("join").hidden = true;
  $("live").hidden = false;
  $("change-room").hidden = false;
  $("room-label").textContent = `Room ${room}`;
  $("slide").replaceChildren(el("p", { class: "waiting", text: "Joining…" }));
  setVoteStatus("");
  if (connection) {
    connection.restart();
    return;
  }
  connection = new Connection("audience", {
    hello: () => {
      const participant = load(localStorage, tokenKey());
      return participant ? { type: "hello", room, participant } : { type: "hello", room };
    },
    onMessage,
    onStatus: (status) => {
      showConnection($("conn"), status);
      updatePoll();
    },
    onFatal: (code) => {
      if (code === 4404) {
        const wrong = room;
        room = "";
        save(localStorage, ROOM_KEY, null);
        setRoomInUrl(null);
        showJoin(`There is no room “${wrong}” here. Check the code on the big screen and try again.`);
        $("room-input").value = wrong;
      } else {
        showJoin("The server refused this page. Reload to try again.");
      }
    },
  });
  showConnection($("conn"), connection.status);
  connection.start();
  window.handsup = { connection, book: () => book };
}

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = normalise($("room-input").value);
  if (!code) {
    showJoin("Type the room code shown on the big screen.");
    return;
  }
  join(code);
});

$("change-room").addEventListener("click", () => {
  connection?.stop();
  room = "";
  save(localStorage, ROOM_KEY, null);
  setRoomInUrl(null);
  showJoin();
});

// Messages.

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      if (message.participant) save(localStorage, tokenKey(), message.participant);
      book.restore(message.votes);
      for (const vote of book.unsent()) connection.send({ type: "vote", ...vote });
      updatePoll();
      break;
    case "state":
      state = message.state;
      noticeReset(state.poll);
      render();
      break;
    case "tally":
      tallies.set(message.poll, message);
      updatePoll();
      break;
    case "vote_ack":
      book.acked(message);
      updatePoll();
      break;
    case "error":
      book.refused(message.ref);
      flash($("errors"), message.message);
      updatePoll();
      break;
    default:
      break;
  }
}

/** A poll only goes back to "idle" when the presenter resets it: its votes are gone. */
function noticeReset(status) {
  if (!status) return;
  const before = statuses.get(status.id);
  if (before && before !== "idle" && status.status === "idle") book.forget(status.id);
  statuses.set(status.id, status.status);
}

// Rendering.

function render() {
  document.title = state.title ? `${state.title} · handsup` : "handsup";
  $("paused").hidden = !state.blackout;
  $("slide").hidden = state.blackout;
  const key = JSON.stringify(state.slide);
  if (key !== shownKey) {
    shownKey = key;
    const article = renderSlide(state.slide);
    poll = state.slide.kind === "poll" && state.slide.poll ? buildPoll(article, state.slide.poll) : null;
    $("slide").replaceChildren(article);
  }
  updatePoll();
}

function buildPoll(article, slidePoll) {
  const line = el("p", { class: "poll-state" });
  const buttons = slidePoll.options.map((text, index) => {
    const button = el(
      "button",
      { type: "button", class: "choice", "aria-pressed": "false", "data-option": index },
      el("span", { class: "choice-letter", text: letter(index) }),
      el("span", { class: "choice-text", text }),
      el("span", { class: "choice-mark", "aria-hidden": "true", text: "✓" }),
    );
    button.addEventListener("click", () => vote(index));
    return button;
  });
  const list = el("div", { class: "choices", role: "group", "aria-label": "Answers" }, ...buttons);
  const results = el("section", { class: "results", "aria-label": "Results", hidden: true });
  const note = el("p", { class: "vote-note" });
  article.querySelector(".poll-area").append(line, list, note, results);
  return { id: slidePoll.id, line, list, buttons, note, results, bars: null, options: slidePoll.options };
}

function vote(option) {
  const status = state?.poll;
  if (!poll || !status || status.id !== poll.id || status.status !== "open") return;
  if (book.choice(poll.id) === option) return; // already sent or recorded
  const message = book.choose(poll.id, option);
  connection.send({ type: "vote", ...message });
  updatePoll();
}

function setVoteStatus(text, kind = "") {
  const node = $("vote-status");
  if (node.textContent !== text) node.textContent = text;
  node.dataset.kind = kind;
}

function updatePoll() {
  if (!poll || !state?.poll || state.poll.id !== poll.id || state.blackout) {
    setVoteStatus("");
    return;
  }
  const status = state.poll;
  const chosen = book.choice(poll.id);
  const pending = book.isPending(poll.id);
  const recorded = book.confirmed[poll.id] ?? null;
  const locked = !status.change_vote && (recorded !== null || pending);
  const open = status.status === "open";
  poll.buttons.forEach((button, index) => {
    button.disabled = !open || locked;
    button.setAttribute("aria-pressed", String(chosen === index));
  });
  poll.list.hidden = status.revealed && !open;
  poll.line.dataset.status = status.status;
  poll.line.textContent = {
    idle: "Voting hasn't started yet",
    open: chosen === null ? "Voting is open: tap your answer" : "Voting is open",
    closed: "Voting is closed",
  }[status.status];

  if (pending) {
    setVoteStatus(connection?.live ? "Sending…" : "Sending… (waiting for the connection)", "sending");
  } else if (recorded !== null) {
    setVoteStatus(`Your vote is in ✓ (${letter(recorded)})`, "done");
  } else {
    setVoteStatus("");
  }
  if (open && locked) poll.note.textContent = "This question takes one vote: yours is locked in.";
  else if (open && recorded !== null) poll.note.textContent = "You can change your answer until voting closes.";
  else poll.note.textContent = "";

  showResults(status, recorded ?? chosen);
}

function showResults(status, mine) {
  const tally = tallies.get(poll.id);
  const visible = status.revealed && status.counts_visible;
  poll.results.hidden = !visible;
  if (!visible) return;
  if (!poll.bars) {
    poll.bars = new Bars(poll.options, { label: "Results" });
    poll.summary = el("p", { class: "results-summary" });
    poll.results.append(el("h2", { class: "results-title", text: "Results" }), poll.summary, poll.bars.root);
  }
  poll.bars.update({
    counts: tally?.counts ?? poll.options.map(() => 0),
    correct: status.correct,
    mine,
  });
  const voters = tally?.voters ?? 0;
  poll.summary.textContent = `${voters} ${voters === 1 ? "vote" : "votes"}`;
}

// Start: straight in with a known room, else ask for the code.
if (room) join(room);
else showJoin();
