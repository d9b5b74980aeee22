// The socket.io peer: what most people would build instead, on Node and socket.io 4.8.
//
// Same scenario and same JSON as handsup (the views come from bench/node_deck.py, made by the
// same view code): hello -> welcome + state, goto -> state to every phone, vote -> vote_ack,
// tally to the display at most ten times a second. Each protocol message is the socket.io
// event "m"; a broadcast is io.to(role).emit(...), which socket.io encodes once for the room.
// No durability.
//
// Run: node bench/node/server.js [--port 0] [--key K] [--deck bench/node/deck.json]
// Prints `ready: http://127.0.0.1:PORT key=K` once listening.
"use strict";

const http = require("node:http");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { Server } = require("socket.io");

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

const KEY = option("key", "peer-key");
const PORT = Number(option("port", "0"));
const ROOM = "PEERS";
const ROLES = ["audience", "display", "presenter"];
const TALLY_INTERVAL = 100;
const deck = JSON.parse(fs.readFileSync(option("deck", path.join(__dirname, "deck.json")), "utf8"));

let position = 0;
const polls = {}; // id -> {status, votes: Map participant -> option, ids: Map vote_id -> participant, counts}
for (const [id, poll] of Object.entries(deck.polls)) {
  polls[id] = { slide: poll.slide, status: "idle", votes: new Map(), ids: new Map(), counts: new Array(poll.options).fill(0) };
}
const participants = new Set();

function state(role) {
  const view = structuredClone(deck.views[role][position]);
  if (view.poll) view.poll.status = polls[view.poll.id].status;
  if (view.polls) for (const id of Object.keys(view.polls)) view.polls[id].status = polls[id].status;
  return { type: "state", state: view };
}

function tally(id) {
  const poll = polls[id];
  return { type: "tally", poll: id, counts: [...poll.counts], voters: poll.votes.size };
}

const server = http.createServer();
const io = new Server(server, { serveClient: false, transports: ["websocket"] });

function broadcastState() {
  for (const role of ROLES) io.to(role).emit("m", state(role));
}

const dirty = new Set();
let flushAt = 0;
let flushTimer = null;
function markTally(id) {
  dirty.add(id);
  if (flushTimer) return;
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flushAt = Date.now();
    for (const poll of dirty) {
      const live = (deck.views.display[polls[poll].slide].poll || {}).results === "live";
      io.to("presenter").emit("m", tally(poll));
      if (live) io.to("display").emit("m", tally(poll));
    }
    dirty.clear();
  }, Math.max(0, flushAt + TALLY_INTERVAL - Date.now()));
}

class Refused extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

function vote(participant, msg) {
  const poll = polls[msg.poll];
  if (!poll) throw new Refused("unknown_poll", "no such poll");
  if (!(msg.option >= 0 && msg.option < poll.counts.length)) throw new Refused("unknown_option", "no such option");
  const owner = poll.ids.get(msg.vote_id);
  if (owner !== undefined) {
    if (owner !== participant) throw new Refused("duplicate_vote_id", "the vote id was already used");
    return poll.votes.get(participant);
  }
  if (poll.status !== "open") throw new Refused("poll_not_open", "voting is not open on this poll");
  if (poll.slide !== position) throw new Refused("poll_not_shown", "the poll is not on the screen");
  const before = poll.votes.get(participant);
  if (before !== undefined) poll.counts[before] -= 1;
  poll.votes.set(participant, msg.option);
  poll.ids.set(msg.vote_id, participant);
  poll.counts[msg.option] += 1;
  markTally(msg.poll);
  return msg.option;
}

function command(msg) {
  if (msg.type === "goto") {
    if (!(msg.index >= 0 && msg.index < deck.views.audience.length)) throw new Refused("out_of_range", "no such slide");
    if (msg.index === position) return;
    position = msg.index;
    broadcastState();
    return;
  }
  const current = Object.entries(polls).find(([, p]) => p.slide === position);
  const id = msg.poll || (current && current[0]);
  const poll = polls[id];
  if (!poll) throw new Refused("no_poll", "there is no poll on this slide");
  if (msg.type === "open") {
    if (poll.status === "open") throw new Refused("already_open", "voting is already open on this poll");
    poll.status = "open";
  } else if (msg.type === "close") {
    if (poll.status !== "open") throw new Refused("not_open", "voting is not open on this poll");
    poll.status = "closed";
  } else if (msg.type === "reset") {
    polls[id] = { slide: poll.slide, status: "idle", votes: new Map(), ids: new Map(), counts: poll.counts.map(() => 0) };
  } else {
    throw new Refused("unknown_command", `cannot handle ${msg.type}`);
  }
  broadcastState();
  markTally(id);
}

io.on("connection", (socket) => {
  const role = socket.handshake.query.role;
  if (!ROLES.includes(role)) return socket.disconnect(true);
  let participant = null;
  let admitted = false;
  socket.on("m", (msg) => {
    if (!admitted) {
      if (msg.type !== "hello") return socket.emit("m", { type: "error", code: "hello_first", message: "send a hello message first" });
      if (role === "presenter" && msg.key !== KEY) {
        socket.emit("m", { type: "error", code: "bad_key", message: "the presenter key is missing or wrong" });
        return socket.disconnect(true);
      }
      const welcome = { type: "welcome", role, room: ROOM };
      if (role === "audience") {
        if (String(msg.room || "").toUpperCase() !== ROOM) {
          socket.emit("m", { type: "error", code: "bad_room", message: "there is no room with that code here" });
          return socket.disconnect(true);
        }
        participant = participants.has(msg.participant) ? msg.participant : crypto.randomBytes(18).toString("base64url");
        participants.add(participant);
        const votes = {};
        for (const [id, poll] of Object.entries(polls)) if (poll.votes.has(participant)) votes[id] = poll.votes.get(participant);
        Object.assign(welcome, { participant, votes });
      }
      admitted = true;
      socket.join(role);
      socket.emit("m", welcome);
      socket.emit("m", state(role));
      return;
    }
    try {
      if (msg.type === "ping") return socket.emit("m", { type: "pong" });
      if (msg.type === "vote") {
        if (role !== "audience") throw new Refused("forbidden", "only audience connections vote");
        const recorded = vote(participant, msg);
        return socket.emit("m", { type: "vote_ack", vote_id: msg.vote_id, poll: msg.poll, option: recorded });
      }
      if (role !== "presenter") throw new Refused("forbidden", "only the presenter can control the session");
      command(msg);
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      const ref = msg.type === "vote" ? msg.vote_id : msg.type;
      socket.emit("m", { type: "error", code: error.code, message: error.message, ref });
    }
  });
});

server.listen(PORT, "127.0.0.1", 4096, () => {
  console.log(`ready: http://127.0.0.1:${server.address().port} key=${KEY}`);
});
