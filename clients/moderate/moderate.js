// Moderator page: the talk's questions waiting for approval and the approved ones, to approve,
// dismiss, mark answered or pin, from the keyboard. A moderator's socket can do nothing else;
// every moderator (and the presenter) sees the same queue, kept in step by the server. The page
// speaks the browser's language; what people typed keeps its own (dir="auto").
import { el, flash, setDocumentLanguage } from "/static/shared/dom.js";
import { direction, language, plural, t, translatePage } from "/static/shared/i18n.js";
import { showConnection } from "/static/shared/indicator.js";
import { pageKey } from "/static/shared/key.js";
import { kindOf } from "/static/shared/kinds/index.js";
import { ModerationList } from "/static/shared/kinds/moderation.js";
import { moderationQueue } from "/static/shared/qa.js";
import { Connection } from "/static/shared/socket.js";

const $ = (id) => document.getElementById(id);
// Nothing here is in the deck's language: the whole page is in the moderator's.
setDocumentLanguage(language(), direction());
translatePage();
const key = pageKey();
let waiting = null;

function send(message) {
  if (!connection.send(message)) flash($("messages"), t("moderate.not_sent"));
}

const queue = moderationQueue($("qa-queue"), send);

// What people typed in open questions and word clouds, poll by poll, to approve or hide.
const ACTIONS = { pending: [["approve", "moderate.approve"], ["hide", "moderate.hide"]], shown: [["hide", "moderate.hide"]], hidden: [["show", "moderate.show"]] };
const STATES = { pending: "moderate.pending", shown: "moderate.shown", hidden: "moderate.hidden" };
const lists = new Map(); // poll id -> ModerationList
const boards = new Map(); // poll id -> an ideas board's view (the presenter's, with merge)
let polls = {}; // poll id -> the poll (from `welcome`): its question names it here

function showTally(tally) {
  // Each poll under its question (the slide's title), not its id.
  const question = polls[tally.poll]?.question ?? tally.poll;
  if (polls[tally.poll]?.type === "ideas") {
    let board = boards.get(tally.poll);
    if (!board) {
      const area = el("div", { class: "ideas-moderate", "data-poll": tally.poll });
      const moderate = (action, item, into) =>
        send(into ? { type: "moderate", poll: tally.poll, action, item, into } : { type: "moderate", poll: tally.poll, action, item });
      board = kindOf(polls[tally.poll]).presenter(area, polls[tally.poll], { moderate });
      boards.set(tally.poll, board);
      $("answer-lists").append(el("h3", { class: "answers-poll", dir: "auto", text: question }), area);
    }
    board.update({ tally });
    showAnswers();
    return;
  }
  let list = lists.get(tally.poll);
  if (!list) {
    const moderate = (action, item) => send({ type: "moderate", poll: tally.poll, action, item });
    list = new ModerationList(t("moderate.answers_to", { question }), t("moderate.none_yet"), moderate);
    lists.set(tally.poll, list);
    $("answer-lists").append(el("h3", { class: "answers-poll", dir: "auto", text: question }), list.root);
  }
  const items = [...(tally.items || [])].reverse(); // newest first
  list.update(
    items.map((item) => ({
      id: item.id,
      text: item.text,
      state: item.state,
      stateText: item.state in STATES ? t(STATES[item.state]) : item.state,
      count: item.count > 1 ? item.count : null,
      actions: (ACTIONS[item.state] ?? []).map(([action, label]) => [action, t(label)]),
    })),
  );
  showAnswers();
}

function showAnswers() {
  $("answers").hidden = false;
  $("nothing").hidden = true;
}

// The Q&A queue only for a talk that takes questions; with neither questions nor anything typed
// to curate, the page says there is nothing to moderate.
function showQuestions(on) {
  const wasHidden = $("qa-queue").hidden;
  $("qa-queue").hidden = !on;
  $("nothing").hidden = on || Object.keys(polls).length > 0;
  // The queue takes the keyboard as soon as there is one, so a moderator can start at once.
  if (on && wasHidden && !document.activeElement?.closest("#main")) $("qa-queue").querySelector(".qa-queue")?.focus();
}

function onMessage(message) {
  switch (message.type) {
    case "welcome":
      polls = message.polls ?? {};
      break;
    case "tally":
      showTally(message);
      break;
    case "questions": {
      showQuestions(message.on !== false);
      queue.update(message);
      // Announce new questions politely, not every upvote.
      if (waiting !== null && message.waiting > waiting) flash($("announce"), plural("moderate.waiting", message.waiting));
      waiting = message.waiting ?? 0;
      break;
    }
    case "error":
      flash($("messages"), message.message);
      break;
    default:
      break;
  }
}

const connection = new Connection("moderator", {
  hello: () => ({ type: "hello", key }),
  onMessage,
  onStatus: (status) => showConnection($("conn"), status),
  onFatal: () => flash($("messages"), t("moderate.bad_key"), 0),
});
showConnection($("conn"), connection.status);
connection.start();
window.handsup = { connection };
