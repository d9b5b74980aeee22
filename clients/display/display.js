// Projector page: the current slide full screen, live poll bars, join panel, blackout.
import { baseUrl, el, setDocumentLanguage } from "/static/shared/dom.js";
import { fitAll, keepFitted } from "/static/shared/fit.js";
import { language, number, parts, plural, t, translatePage } from "/static/shared/i18n.js";
import { showConnection } from "/static/shared/indicator.js";
import { pageKey } from "/static/shared/key.js";
import { kindOf } from "/static/shared/kinds/index.js";
import { renderLeaderboard } from "/static/shared/leaderboard.js";
import { renderBoard } from "/static/shared/qa.js";
import { renderSlide } from "/static/shared/slide.js";
import { Connection } from "/static/shared/socket.js";

const $ = (id) => document.getElementById(id);
const stage = $("stage");
// The display's own words in the browser's language (the slides keep the deck's).
translatePage();
const tallies = new Map(); // poll id -> last tally frame
let state = null;
let shownKey = null;
let poll = null; // the poll slide's live parts: {id, view, badge, votes, strip, clock, count}
let questions = null; // the last `questions` frame

// The audience's questions: on a `layout: questions` slide, or over any slide when the
// presenter shows the overlay.
function showQuestions() {
  const onSlide = state?.slide.kind === "questions";
  const area = stage.querySelector(".questions-area");
  if (area) renderBoard(area, questions, 6);
  const overlay = $("questions-overlay");
  overlay.hidden = !state?.qa?.overlay || onSlide;
  if (!overlay.hidden) renderBoard(overlay, questions, 3);
}

const voteCount = (n) => plural("votes", n);

function buildPoll(article, slidePoll) {
  const area = article.querySelector(".poll-area");
  // Not a live region: it changes with every vote.
  const votes = el("p", { class: "poll-votes" });
  const clock = el("p", { class: "poll-clock", role: "timer", hidden: true });
  area.append(votes, clock);
  const kind = kindOf(slidePoll);
  const view = kind.display(area, slidePoll);
  const badge = el("p", { class: "poll-badge" });
  const strip = el(
    "div",
    { class: "join-strip" },
    el("p", {}, el("span", { class: "strip-label", text: `${t("display.code")} ` }), el("strong", { class: "strip-code" })),
    el("img", { class: "strip-qr", alt: t("display.qr") }),
  );
  article.append(el("footer", { class: "poll-footer", lang: language() }, badge, strip));
  // "12 votes", or what the kind calls those who answered ("12 people" sent words).
  const count = kind.voters ?? voteCount;
  return { id: slidePoll.id, view, badge, votes, strip, clock, count };
}

/** The opening title slide says how to join: the address, the room code and the QR code. */
function titleJoin(article) {
  const url = baseUrl(state.join?.url);
  const strip = el(
    "div",
    { class: "join-strip" },
    el("p", {}, el("span", { class: "strip-label", text: `${t("display.code")} ` }), el("strong", { class: "strip-code", text: state.join?.room ?? "" })),
    el("img", { class: "strip-qr", alt: t("display.qr") }),
  );
  showQr(strip.querySelector(".strip-qr"));
  const badge = el(
    "p",
    { class: "poll-badge" },
    ...(url ? parts("display.join_at_url", { url: el("bdi", { text: url }) }) : [t("display.join")]),
  );
  article.append(el("footer", { class: "poll-footer title-join", lang: language() }, badge, strip));
}

function showSlide() {
  const slide = state.slide;
  const key = JSON.stringify([slide, state.join?.on_title]);
  if (key === shownKey) return;
  shownKey = key;
  const article = renderSlide(slide, { fit: true });
  poll = slide.kind === "poll" && slide.poll ? buildPoll(article, slide.poll) : null;
  if (slide.kind === "title" && slide.index === 0 && state.join?.on_title) titleJoin(article);
  stage.replaceChildren(article);
  updatePoll();
  fitAll(stage);
}

function updatePoll() {
  if (!poll || !state?.poll || state.poll.id !== poll.id) return;
  const status = state.poll;
  const tally = tallies.get(poll.id);
  poll.view.update({ status, tally });
  const article = stage.firstElementChild;
  const layout = `${status.status}/${status.counts_visible}`;
  const relayout = article.dataset.layout !== layout;
  article.dataset.layout = layout;
  article.dataset.status = status.status;
  article.classList.toggle("hidden-results", !status.counts_visible);
  if (status.status === "idle" && !tally?.voters) poll.votes.textContent = "";
  else if (tally) poll.votes.textContent = poll.count(tally.voters);
  else poll.votes.textContent = status.counts_visible ? poll.count(0) : "";
  const url = baseUrl(state.join?.url);
  if (status.status === "open") {
    poll.badge.textContent = url ? t("display.vote_at", { url }) : t("display.vote_now");
  } else if (status.status === "closed") {
    poll.badge.textContent = t("display.closed");
  } else {
    poll.badge.textContent = t("display.opens_soon");
  }
  poll.strip.hidden = status.status !== "open";
  showClock(status.status === "open" ? status.deadline : null);
  poll.strip.querySelector(".strip-code").textContent = state.join?.room ?? "";
  showQr(poll.strip.querySelector(".strip-qr"));
  // The footer grows while voting is open (join strip): fit the slide to what is left.
  if (relayout) fitAll(stage);
}

// A timed question's time left, from the server's deadline and clock.
let clockTimer = null;
let serverSkew = 0;

function showClock(deadline) {
  clearInterval(clockTimer);
  const node = poll?.clock;
  if (!node) return;
  node.hidden = !deadline;
  if (!deadline) return;
  const tick = () => {
    const left = Math.max(0, Math.ceil(deadline - (Date.now() / 1000 + serverSkew)));
    node.textContent = left > 0 ? number(left) : t("clock.up");
    node.classList.toggle("up", left <= 0);
    node.toggleAttribute("data-urgent", left <= 5);
    node.setAttribute("aria-label", left > 0 ? plural("clock.seconds_left", left) : t("clock.up"));
    if (left <= 0) clearInterval(clockTimer);
  };
  tick();
  clockTimer = setInterval(tick, 250);
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
      document.title = state.title ? t("display.page_titled", { title: state.title }) : t("display.page");
      setDocumentLanguage(state.lang, state.dir);
      showSlide();
      renderLeaderboard(stage.querySelector(".leaderboard-area"), state.leaderboard);
      updatePoll();
      showJoin();
      showQuestions();
      $("blackout").hidden = !state.blackout;
      break;
    case "questions":
      questions = message;
      showQuestions();
      break;
    case "tally":
      tallies.set(message.poll, message);
      updatePoll();
      break;
    case "welcome":
      if (message.now) serverSkew = message.now - Date.now() / 1000;
      break;
    default:
      break;
  }
}

// A display joins with the room code (?room=CODE, as `handsup serve` prints its URL) or with
// the presenter key (#key=…, or an older link's ?key=…): sockets that know neither get no
// live tallies. On the server's own machine a bare /display asks the server for the code.
async function findCredentials() {
  const key = pageKey();
  if (key) return { key };
  const params = new URLSearchParams(location.search);
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
  const text = credentials.room === "" ? t("display.need_room") : t("display.refused");
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
