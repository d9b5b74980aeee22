// Phone page: join a room by code, follow the slides, vote on polls (a vote made offline is
// kept and resent with the same id), see the results once the presenter reveals them.
import { announce, describeChange, swapSlide } from "/static/shared/announce.js";
import { el, flash, setDocumentLanguage } from "/static/shared/dom.js";
import { t, translatePage } from "/static/shared/i18n.js";
import { showConnection } from "/static/shared/indicator.js";
import { kindOf } from "/static/shared/kinds/index.js";
import { renderLeaderboard, renderMine } from "/static/shared/leaderboard.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";
import { PhoneQa } from "/static/shared/qa.js";
import { load, save } from "/static/shared/store.js";
import { PrivacyNotice } from "/static/audience/privacy.js";
import { VoteBook } from "/static/audience/votes.js";

const ROOM_KEY = "handsup.room";
const $ = (id) => document.getElementById(id);

// The page's fixed text in the phone's own language (the slides keep the deck's).
translatePage();

const normalise = (code) => String(code || "").replace(/\s+/g, "").toUpperCase();
const tokenKey = () => `handsup.participant.${room}`;

let room = normalise(new URLSearchParams(location.search).get("room") || load(localStorage, ROOM_KEY, ""));
let connection = null;
let book = null;
let state = null;
let shownKey = null;
let poll = null; // the poll slide's parts: {id, slidePoll, kind, view, line, clock, note}
let serverSkew = 0; // the server's clock minus this phone's, in seconds
let myScore = null; // this phone's quiz standing, while a leaderboard is shown
const tallies = new Map(); // poll id -> last tally
const owns = new Map(); // poll id -> this phone's own ideas, as the server last told it
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
  document.title = t("page.join");
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
  owns.clear();
  statuses.clear();
  $("join").hidden = true;
  $("live").hidden = false;
  $("change-room").hidden = false;
  $("room-label").textContent = t("room", { room });
  $("slide").replaceChildren(el("p", { class: "waiting", text: t("joining") }));
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
        showJoin(t("join.no_room", { room: wrong }));
        $("room-input").value = wrong;
      } else {
        showJoin(t("join.refused"));
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
    showJoin(t("join.empty"));
    return;
  }
  join(code);
});

$("nickname-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("nickname-input").value.trim();
  if (name) connection?.send({ type: "nickname", name });
});

$("change-room").addEventListener("click", () => {
  connection?.stop();
  room = "";
  save(localStorage, ROOM_KEY, null);
  setRoomInUrl(null);
  showJoin();
});

// Messages.

// The talk's Q&A, reachable from every slide when the deck takes questions.
const qa = new PhoneQa($("live"), (message) => connection?.send(message));
// What is kept, who sees it and for how long: on joining, and from "Your data".
const privacy = new PrivacyNotice($("live"), document.querySelector(".footer"), (message) => connection?.send(message));

function onMessage(message) {
  if (qa.onMessage(message)) return;
  switch (message.type) {
    case "welcome":
      qa.resend();
      if (message.participant) save(localStorage, tokenKey(), message.participant);
      if (message.now) serverSkew = message.now - Date.now() / 1000;
      book.restore(message.votes);
      owns.clear();
      for (const [id, items] of Object.entries(message.own || {})) owns.set(id, items);
      for (const unsent of book.unsent()) connection.send(unsent);
      updatePoll();
      break;
    case "state":
      announce($("announcer"), describeChange(state, message.state));
      state = message.state;
      qa.setSettings(state.qa ?? null);
      privacy.update(room, state.privacy ?? null);
      noticeReset(state.poll);
      render();
      break;
    case "tally":
      tallies.set(message.poll, message);
      updatePoll();
      break;
    case "score":
      myScore = message;
      if (message.name) $("nickname-input").value = message.name;
      renderMine(document.querySelector("#slide .my-standing"), myScore);
      break;
    case "forgotten":
      privacy.forgotten();
      connection.restart(); // a fresh welcome: what this phone has answered, now without its texts
      break;
    case "vote_ack":
      book.acked(message);
      if (poll?.id === message.poll) poll.view.settled?.(message.vote_id, "");
      if (message.own) owns.set(message.poll, message.own);
      updatePoll();
      break;
    case "error": {
      const refusedPoll = book.refused(message.ref);
      const why = refusedPoll !== null ? explainRefusedAnswer(message) : message.message;
      if (refusedPoll !== null && poll?.id === refusedPoll) poll.view.settled?.(message.ref, why);
      flash($("errors"), why);
      updatePoll();
      break;
    }
    default:
      break;
  }
}

// Why an answer was refused, for the refusals a phone meets in normal use, in the phone's
// language; any other shows the server's own (English) explanation.
const REFUSALS = {
  too_fast: () => t("error.too_fast"),
  too_long: () => t("error.too_long"),
  empty_answer: () => t("error.empty_answer"),
  too_many_entries: () => t("error.too_many_entries"),
  poll_not_open: () => t("error.poll_not_open"),
  too_late: () => t("error.too_late"),
  nickname_required: () => t("error.nickname_required"),
};

function explainRefusedAnswer(error) {
  return REFUSALS[error.code]?.() || error.message;
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
  setDocumentLanguage(state.lang, state.dir);
  $("paused").hidden = !state.blackout;
  $("slide").hidden = state.blackout;
  const key = JSON.stringify(state.slide);
  if (key !== shownKey) {
    shownKey = key;
    const article = renderSlide(state.slide);
    poll = state.slide.kind === "poll" && state.slide.poll ? buildPoll(article, state.slide.poll) : null;
    if (state.slide.kind === "leaderboard") {
      article.querySelector(".leaderboard-area").after(el("p", { class: "my-standing", role: "status" }));
    }
    // The questions slide: the way in to asking and upvoting, right on the slide.
    qa.offer(article.querySelector(".questions-area"));
    swapSlide($("slide"), article);
  }
  if (state.slide.kind === "leaderboard") {
    renderLeaderboard(document.querySelector("#slide .leaderboard-area"), state.leaderboard);
    renderMine(document.querySelector("#slide .my-standing"), myScore);
  }
  $("nickname-form").hidden = !state.nicknames || state.nicknames === "off";
  updatePoll();
}

function buildPoll(article, slidePoll) {
  const kind = kindOf(slidePoll);
  const area = article.querySelector(".poll-area");
  // Not a live region: the page's one status region says when voting opens or closes.
  const line = el("p", { class: "poll-state" });
  const clock = el("p", { class: "poll-clock", role: "timer", hidden: true });
  area.append(line, clock);
  const view = kind.audience(area, slidePoll, { answer });
  // The note about changing (or having sent everything) goes with the answers, above results.
  const note = el("p", { class: "vote-note" });
  area.insertBefore(note, area.querySelector(":scope > .results"));
  return { id: slidePoll.id, slidePoll, kind, view, line, clock, note };
}

/** Send an answer to the poll on screen. Returns the vote id to expect an ack or error for,
 * true if the server already holds exactly this answer, or null if it was not sent. */
function answer(given) {
  const status = state?.poll;
  if (!poll || !status || status.id !== poll.id || status.status !== "open") return null;
  // A kind that collects several entries (words) sends what is still unsent with the new one,
  // so nothing typed while an earlier entry is on its way (or offline) is lost.
  const unsent = book.isPending(poll.id) ? book.choice(poll.id) : null;
  const value = poll.kind.merge && unsent !== null ? poll.kind.merge(poll.slidePoll, unsent, given) : given;
  if (JSON.stringify(book.choice(poll.id)) === JSON.stringify(value)) {
    // Already on its way (its ack or error is still to come), or already recorded.
    return book.isPending(poll.id) ? book.pending[poll.id].vote_id : true;
  }
  const message = book.choose(poll.id, value, (voteId) => poll.kind.wire(poll.slidePoll, value, voteId));
  connection.send(message);
  updatePoll();
  return message.vote_id;
}

function setVoteStatus(text, kind = "") {
  const node = $("vote-status");
  if (node.textContent !== text) node.textContent = text;
  node.dataset.kind = kind;
}

function updatePoll() {
  if (!poll || !state?.poll || state.poll.id !== poll.id || state.blackout) {
    setVoteStatus("");
    if (poll) showClock(null);
    return;
  }
  const status = state.poll;
  const { kind, slidePoll, view } = poll;
  const chosen = book.choice(poll.id);
  const pending = book.isPending(poll.id);
  const recorded = book.confirmed[poll.id] ?? null;
  // What this phone has given: recorded, and for a kind that collects entries, the unsent ones.
  const given = kind.merge && pending ? kind.merge(slidePoll, recorded ?? [], chosen) : (recorded ?? chosen);
  // A kind that takes several answers (words, texts) is full once all are in; one that takes a
  // single answer is locked once given, unless people may change it. While an answer is on its
  // way, only a kind that collects entries takes another.
  const full = kind.full ? kind.full(slidePoll, given) : recorded !== null && !status.change_vote;
  const locked = full || (!status.change_vote && pending && !kind.merge);
  const open = status.status === "open";
  poll.line.dataset.status = status.status;
  poll.line.textContent = {
    idle: t("poll.idle"),
    open: view.prompt && !full ? view.prompt(chosen, tallies.get(poll.id)) : t("poll.open"),
    closed: t("poll.closed"),
  }[status.status];
  view.update({
    status,
    tally: tallies.get(poll.id),
    chosen,
    mine: given,
    pending,
    full,
    canAnswer: open && !locked,
    own: owns.get(poll.id) ?? [],
  });

  if (pending) {
    setVoteStatus(connection?.live ? t("vote.sending") : t("vote.sending_offline"), "sending");
  } else if (recorded !== null) {
    const what = kind.describe(slidePoll, recorded);
    setVoteStatus(kind.confirmed ? kind.confirmed(slidePoll, recorded) : t("vote.in", { answer: what }), "done");
  } else {
    setVoteStatus("");
  }
  if (open && locked) poll.note.textContent = view.lockedNote ?? t("vote.locked");
  else if (open && recorded !== null && status.change_vote) poll.note.textContent = t("vote.change");
  else poll.note.textContent = "";
  showClock(open ? status.deadline : null);
}

// A timed question's time left, from the server's deadline and the server's clock.
let clockTimer = null;

function showClock(deadline) {
  clearInterval(clockTimer);
  clockTimer = null;
  if (!poll) return;
  const node = poll.clock;
  if (!deadline) {
    node.hidden = true;
    return;
  }
  const tick = () => {
    const left = Math.max(0, Math.ceil(deadline - (Date.now() / 1000 + serverSkew)));
    node.hidden = false;
    node.textContent = left > 0 ? t("clock.left", { seconds: left }) : t("clock.up");
    node.toggleAttribute("data-urgent", left <= 5);
    if (left <= 0) clearInterval(clockTimer);
  };
  tick();
  clockTimer = setInterval(tick, 250);
}

// Start: straight in with a known room, else ask for the code.
if (room) join(room);
else showJoin();
