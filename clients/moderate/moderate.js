// Moderator page: the talk's questions waiting for approval and the approved ones, to approve,
// dismiss, mark answered or pin, from the keyboard. A moderator's socket can do nothing else;
// every moderator (and the presenter) sees the same queue, kept in step by the server.
import { flash } from "/static/shared/dom.js";
import { showConnection } from "/static/shared/indicator.js";
import { el } from "/static/shared/dom.js";
import { ModerationList } from "/static/shared/kinds/moderation.js";
import { moderationQueue } from "/static/shared/qa.js";
import { Connection } from "/static/shared/socket.js";

const $ = (id) => document.getElementById(id);
const key = new URLSearchParams(location.search).get("key") || "";
let waiting = null;

function send(message) {
  if (!connection.send(message)) flash($("messages"), "Not connected: the action was not sent.");
}

const queue = moderationQueue($("qa-queue"), send);

// What people typed in open questions and word clouds, poll by poll, to approve or hide.
const ACTIONS = { pending: [["approve", "Approve"], ["hide", "Hide"]], shown: [["hide", "Hide"]], hidden: [["show", "Show"]] };
const STATES = { pending: "Waiting for approval", shown: "Shown", hidden: "Hidden" };
const lists = new Map(); // poll id -> ModerationList

function showTally(tally) {
  let list = lists.get(tally.poll);
  if (!list) {
    const moderate = (action, item) => send({ type: "moderate", poll: tally.poll, action, item });
    list = new ModerationList(`Answers to poll ${tally.poll}`, "Nothing sent yet.", moderate);
    lists.set(tally.poll, list);
    $("answer-lists").append(el("h3", { class: "answers-poll", text: `Poll “${tally.poll}”` }), list.root);
  }
  const items = [...(tally.items || [])].reverse(); // newest first
  list.update(
    items.map((item) => ({
      id: item.id,
      text: item.text,
      state: item.state,
      stateText: STATES[item.state] ?? item.state,
      count: item.count > 1 ? item.count : null,
      actions: ACTIONS[item.state] ?? [],
    })),
  );
  $("answers").hidden = false;
}

function onMessage(message) {
  switch (message.type) {
    case "tally":
      showTally(message);
      break;
    case "questions": {
      queue.update(message);
      // Announce new questions politely, not every upvote.
      if (waiting !== null && message.waiting > waiting) flash($("announce"), `${message.waiting} waiting for approval`);
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
  onFatal: () => flash($("messages"), "The moderator key is missing or wrong: open the moderator URL printed at start-up.", 0),
});
showConnection($("conn"), connection.status);
connection.start();
$("qa-queue").querySelector(".qa-queue")?.focus();
window.handsup = { connection };
