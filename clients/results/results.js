// Results page: fetches a session's results (presenter key from the URL) and draws them.
import { setDocumentLanguage } from "/static/shared/dom.js";

const params = new URLSearchParams(location.search);
const key = params.get("key") || "";
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { "X-Handsup-Key": key } });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

function drawPoll(poll) {
  const box = el("article", { class: "poll", "aria-label": poll.question });
  box.append(el("h3", { text: poll.question }));
  if (poll.source) box.append(el("p", { class: "source", text: `Source: ${poll.source}` }));
  const did = poll.type === "words" || poll.type === "text" ? "answered" : "voted";
  box.append(el("p", { class: "turnout", text: `${poll.voters} ${did} · turnout ${poll.turnout}% of participants` }));
  if (poll.mean !== null && poll.mean !== undefined) {
    box.append(el("p", { class: "summary", text: `Mean ${poll.mean} · median ${poll.median}` }));
  }
  poll.options.forEach((option, index) => {
    const fill = el("div", { class: "fill" });
    fill.style.width = `${option.percentage}%`;
    // Options go by letter; a scale's points, words and answers by what they are. A word or
    // an answer the presenter hid (or never approved) says so.
    // An ideas board's rows come ranked, the shown ideas first: their place is their rank.
    const ranked = poll.type === "ideas" && !option.hidden;
    const name = poll.type === "choice" || !poll.type ? `${String.fromCharCode(65 + index)}. ${option.text}` : ranked ? `${index + 1}. ${option.text}` : option.text;
    const classes = ["row", option.correct ? "correct" : "", option.hidden ? "hidden" : ""].filter(Boolean);
    const label = el("span", { class: "label", text: name });
    // An idea says what became of it: pending, hidden, or merged into another.
    const why = option.state && option.state !== "shown" ? option.state : "hidden";
    if (option.hidden) label.append(el("span", { class: "hidden-tag", text: ` (${why})` }));
    const row = el("div", { class: classes.join(" ") }, [
      label,
      el("div", { class: "track", role: "img", "aria-label": `${option.votes} votes, ${option.percentage}%` }, [fill]),
      el("span", { class: "count", text: `${option.votes} · ${option.percentage}%` }),
    ]);
    box.append(row);
  });
  return box;
}

function drawTimeline(votes, startedAt) {
  const figure = $("timeline");
  figure.replaceChildren();
  if (!votes.length) {
    figure.append(el("figcaption", { text: "No votes yet." }));
    return;
  }
  const start = Date.parse(startedAt);
  const minutes = votes.map((v) => Math.max(0, Math.floor((Date.parse(v.at) - start) / 60000)));
  const span = Math.max(...minutes) + 1;
  const counts = new Array(span).fill(0);
  for (const m of minutes) counts[m] += 1;
  const most = Math.max(...counts);
  const width = 720, height = 160, pad = 24, barWidth = (width - pad) / span;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + pad}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Votes per minute over ${span} minutes, at most ${most} in one minute`);
  counts.forEach((count, minute) => {
    const bar = document.createElementNS(ns, "rect");
    const h = most ? (count / most) * (height - 10) : 0;
    bar.setAttribute("x", String(pad + minute * barWidth + 1));
    bar.setAttribute("y", String(height - h));
    bar.setAttribute("width", String(Math.max(1, barWidth - 2)));
    bar.setAttribute("height", String(h));
    svg.append(bar);
  });
  const label = (x, y, text) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", String(x));
    t.setAttribute("y", String(y));
    t.textContent = text;
    svg.append(t);
  };
  label(pad, height + 16, "0 min");
  label(width - 60, height + 16, `${span} min`);
  label(0, 12, String(most));
  figure.replaceChildren(svg, el("figcaption", { text: "Votes per minute since the session started" }));
}

// The talk's questions, most upvoted first, each with what the moderators did with it.
function drawQuestions(questions) {
  $("questions-section").hidden = !questions.length;
  $("questions").replaceChildren(
    ...questions.map((q) =>
      el("li", { class: `question ${q.state}` }, [
        el("span", { class: "count", text: `${q.votes} ▲` }),
        el("span", { class: "text", text: q.text }),
        el("span", { class: "state", text: `${q.state}${q.pinned ? " · pinned" : ""}${q.name ? ` · ${q.name}` : ""}` }),
      ]),
    ),
  );
}

async function show(id) {
  const results = await getJSON(`/api/sessions/${id}/results.json`);
  const s = results.session;
  setDocumentLanguage(results.lang, results.dir);
  $("title").textContent = s.title || "Results";
  $("meta").textContent = `Session ${s.id} · room ${s.room} · started ${new Date(s.started_at).toLocaleString()} · ${s.participants} participants`;
  const base = `/api/sessions/${id}/results`;
  $("csv").href = `${base}.csv?key=${encodeURIComponent(key)}`;
  $("json").href = `${base}.json?key=${encodeURIComponent(key)}`;
  $("votes-csv").href = `${base}.votes.csv?key=${encodeURIComponent(key)}`;
  $("keepsake").href = `${base}.html?key=${encodeURIComponent(key)}`;
  $("polls").replaceChildren(...results.polls.map(drawPoll));
  drawTimeline(results.votes, s.started_at);
  drawQuestions(results.questions ?? []);
  $("status").textContent = `${results.polls.length} polls, ${results.votes.length} votes`;
}

async function main() {
  try {
    const sessions = await getJSON("/api/sessions");
    const picker = $("session");
    for (const s of sessions) {
      picker.append(el("option", { value: String(s.id), text: `${s.id}: ${s.title || s.deck_path} (${new Date(s.started_at).toLocaleString()})` }));
    }
    if (!sessions.length) {
      $("status").textContent = "No sessions yet.";
      return;
    }
    picker.addEventListener("change", () => show(picker.value));
    await show(sessions[0].id);
  } catch (error) {
    $("status").textContent = `Could not load results: ${error.message}`;
  }
}

main();
