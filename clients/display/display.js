// Projector page: the current slide full screen, live poll bars, join panel, blackout.
import { Bars } from "/static/shared/bars.js";
import { baseUrl, el } from "/static/shared/dom.js";
import { fitAll, keepFitted } from "/static/shared/fit.js";
import { showConnection } from "/static/shared/indicator.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";

const $ = (id) => document.getElementById(id);
const stage = $("stage");
const tallies = new Map(); // poll id -> last tally frame
let state = null;
let shownKey = null;
let poll = null; // the poll slide's live parts: {id, bars, badge, votes, strip}

const plural = (n) => `${n} ${n === 1 ? "vote" : "votes"}`;

function buildPoll(article, slidePoll) {
  const bars = new Bars(slidePoll.options, { label: "Votes per option" });
  const votes = el("p", { class: "poll-votes", "aria-live": "polite" });
  article.querySelector(".poll-area").append(votes, bars.root);
  const badge = el("p", { class: "poll-badge" });
  const strip = el(
    "div",
    { class: "join-strip" },
    el("p", {}, el("span", { class: "strip-label", text: "Code " }), el("strong", { class: "strip-code" })),
    el("img", { class: "strip-qr", alt: "QR code to join" }),
  );
  article.append(el("footer", { class: "poll-footer" }, badge, strip));
  return { id: slidePoll.id, bars, badge, votes, strip };
}

function showSlide() {
  const slide = state.slide;
  const key = JSON.stringify(slide);
  if (key === shownKey) return;
  shownKey = key;
  const article = renderSlide(slide, { fit: true });
  poll = slide.kind === "poll" && slide.poll ? buildPoll(article, slide.poll) : null;
  stage.replaceChildren(article);
  updatePoll();
  fitAll(stage);
}

function updatePoll() {
  if (!poll || !state?.poll || state.poll.id !== poll.id) return;
  const status = state.poll;
  const tally = tallies.get(poll.id);
  const zeros = poll.bars.rows.map(() => 0);
  poll.bars.update({
    counts: status.counts_visible ? (tally?.counts ?? zeros) : null,
    correct: status.correct,
  });
  const article = stage.firstElementChild;
  const layout = `${status.status}/${status.counts_visible}`;
  const relayout = article.dataset.layout !== layout;
  article.dataset.layout = layout;
  article.dataset.status = status.status;
  article.classList.toggle("hidden-results", !status.counts_visible);
  if (status.status === "idle" && !tally?.voters) poll.votes.textContent = "";
  else if (tally) poll.votes.textContent = plural(tally.voters);
  else poll.votes.textContent = status.counts_visible ? plural(0) : "";
  const url = baseUrl(state.join?.url);
  if (status.status === "open") {
    poll.badge.textContent = url ? `Vote now at ${url}` : "Vote now";
  } else if (status.status === "closed") {
    poll.badge.textContent = "Voting closed";
  } else {
    poll.badge.textContent = "Voting opens soon";
  }
  poll.strip.hidden = status.status !== "open";
  poll.strip.querySelector(".strip-code").textContent = state.join?.room ?? "";
  showQr(poll.strip.querySelector(".strip-qr"));
  // The footer grows while voting is open (join strip): fit the slide to what is left.
  if (relayout) fitAll(stage);
}

function showJoin() {
  const join = state.join || {};
  $("join-panel").hidden = !join.shown;
  $("join-url").textContent = baseUrl(join.url);
  $("join-code").textContent = join.room ?? "";
  showQr($("join-qr"));
}

/** The join QR code, unless phones cannot reach this address (then the server has none). */
function showQr(img) {
  const usable = Boolean(state.join?.url) && !state.join?.warning;
  img.hidden = !usable;
  if (usable && !img.getAttribute("src")) img.src = "/qr/join.svg";
}

function onMessage(message) {
  switch (message.type) {
    case "state":
      state = message.state;
      document.title = state.title ? `${state.title} · Display` : "Display · handsup";
      showSlide();
      updatePoll();
      showJoin();
      $("blackout").hidden = !state.blackout;
      break;
    case "tally":
      tallies.set(message.poll, message);
      updatePoll();
      break;
    default:
      break;
  }
}

// A display joins with the room code (?room=CODE, as `handsup serve` prints its URL) or with
// the presenter key (?key=…): sockets that know neither get no live tallies. On the server's
// own machine a bare /display asks the server for the code.
async function findCredentials() {
  const params = new URLSearchParams(location.search);
  if (params.get("key")) return { key: params.get("key") };
  if (params.get("room")) return { room: params.get("room") };
  try {
    const answer = await fetch("/display/room", { cache: "no-store" });
    if (answer.ok) return { room: (await answer.json()).room };
  } catch {
    // offline for now: the socket's refusal says what to do
  }
  return { room: "" };
}
const credentials = await findCredentials();

function onFatal() {
  const text = credentials.room === ""
    ? "Open this page as /display?room=CODE, with the room code phones use (handsup serve prints this URL)."
    : "This display was refused by the server.";
  stage.replaceChildren(el("p", { class: "waiting", text }));
}

const connection = new Connection("display", {
  hello: () => ({ type: "hello", ...credentials }),
  onMessage,
  onStatus: (status) => showConnection($("conn"), status),
  onFatal,
});
showConnection($("conn"), connection.status);
connection.start();
keepFitted(stage, () => stage);
window.handsup = { connection };

// No visible controls: F or a double click toggles full screen; the cursor hides when still.
function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen?.();
  else document.documentElement.requestFullscreen?.().catch(() => {});
}
document.addEventListener("keydown", (event) => {
  if (event.key === "f" || event.key === "F") toggleFullscreen();
});
document.addEventListener("dblclick", toggleFullscreen);
let idleTimer = null;
document.addEventListener("mousemove", () => {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), 2000);
});
document.body.classList.add("idle");

// Keep the projector from sleeping mid-talk where the browser allows it.
async function stayAwake() {
  try {
    if (document.visibilityState === "visible") await navigator.wakeLock?.request("screen");
  } catch {
    // not allowed here: fine
  }
}
document.addEventListener("visibilitychange", stayAwake);
stayAwake();
