// Results page: fetches a session's results (presenter key from the URL's fragment, sent in a
// header, never in a URL a proxy would log) and draws them, in
// the browser's language (the questions and options keep the deck's).
import { setDocumentLanguage } from "/static/shared/dom.js";
import { language, number, plural, t, translatePage } from "/static/shared/i18n.js";
import { pageKey } from "/static/shared/key.js";

const key = pageKey();
const $ = (id) => document.getElementById(id);
translatePage();

/** A percentage (0..100, as the results give it) as this language writes it: "33.3%". */
const share = (percentage) => number(percentage / 100, { style: "percent", maximumFractionDigits: 1 });
const when = (iso) => new Date(iso).toLocaleString(language());

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

// A row left out of the bars says why: hidden, or (an idea) pending or merged into another.
function hiddenTag(state) {
  if (state === "pending") return t("results.pending");
  if (state?.startsWith("merged into ")) return t("results.merged", { into: state.slice("merged into ".length) });
  return t("results.hidden");
}

function drawPoll(poll) {
  const box = el("article", { class: "poll", "aria-label": poll.question });
  box.append(el("h3", { text: poll.question }));
  if (poll.source) box.append(el("p", { class: "source" }, [t("source"), el("bdi", { text: poll.source })]));
  const did = plural(poll.type === "words" || poll.type === "text" ? "results.answered" : "results.voted", poll.voters);
  box.append(el("p", { class: "turnout", text: t("results.turnout", { did, turnout: share(poll.turnout) }) }));
  if (poll.mean !== null && poll.mean !== undefined) {
    const summary = t("rating.summary", { mean: number(poll.mean), median: number(poll.median) });
    box.append(el("p", { class: "summary", text: summary }));
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
    // "✓ correct" is drawn after the label (CSS), in this language.
    const label = el("span", { class: "label", text: name, "data-correct": t("bar.correct") });
    if (option.hidden) label.append(el("span", { class: "hidden-tag", text: ` ${hiddenTag(option.state)}` }));
    const votes = plural("votes", option.votes);
    const row = el("div", { class: classes.join(" ") }, [
      label,
      el("div", { class: "track", role: "img", "aria-label": t("results.bar", { votes, share: share(option.percentage) }) }, [fill]),
      el("bdi", { class: "count", text: t("bar.count", { votes: number(option.votes), share: share(option.percentage) }) }),
    ]);
    box.append(row);
  });
  return box;
}

function drawTimeline(votes, startedAt) {
  const figure = $("timeline");
  figure.replaceChildren();
  if (!votes.length) {
    figure.append(el("figcaption", { text: t("results.no_votes") }));
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
  svg.setAttribute("aria-label", t("results.timeline_label", { span: plural("results.minutes", span), most: number(most) }));
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
  label(pad, height + 16, t("results.min", { n: number(0) }));
  label(width - 60, height + 16, t("results.min", { n: number(span) }));
  label(0, 12, number(most));
  figure.replaceChildren(svg, el("figcaption", { text: t("results.timeline_caption") }));
}

// The talk's questions, most upvoted first, each with what the moderators did with it.
function drawQuestions(questions) {
  $("questions-section").hidden = !questions.length;
  $("questions").replaceChildren(
    ...questions.map((q) =>
      el("li", { class: `question ${q.state}` }, [
        el("span", { class: "count", text: `${number(q.votes)} ▲`, "aria-label": plural("qa.upvotes", q.votes) }),
        el("span", { class: "text", dir: "auto", text: q.text }),
        el("span", { class: "state" }, [
          [t(`results.state.${q.state}`) || q.state, ...(q.pinned ? [t("results.pinned")] : [])].join(" · "),
          ...(q.name ? [" · ", el("bdi", { text: q.name })] : []),
        ]),
      ]),
    ),
  );
}

async function show(id) {
  const results = await getJSON(`/api/sessions/${id}/results.json`);
  const s = results.session;
  setDocumentLanguage(results.lang, results.dir);
  $("title").textContent = s.title || t("results.title");
  $("meta").textContent = t("results.meta", {
    id: s.id,
    room: s.room,
    started: when(s.started_at),
    participants: plural("results.participants", s.participants),
  });
  const base = `/api/sessions/${id}/results`;
  $("csv").href = `${base}.csv`;
  $("json").href = `${base}.json`;
  $("votes-csv").href = `${base}.votes.csv`;
  $("keepsake").href = `${base}.html`;
  $("polls").replaceChildren(...results.polls.map(drawPoll));
  drawTimeline(results.votes, s.started_at);
  drawQuestions(results.questions ?? []);
  $("status").textContent = t("results.status", {
    polls: plural("results.poll_count", results.polls.length),
    votes: plural("votes", results.votes.length),
  });
}

async function main() {
  try {
    const sessions = await getJSON("/api/sessions");
    const picker = $("session");
    for (const s of sessions) {
      const text = t("results.session_item", { id: s.id, title: s.title || s.deck_path, started: when(s.started_at) });
      picker.append(el("option", { value: String(s.id), text }));
    }
    if (!sessions.length) {
      $("status").textContent = t("results.no_sessions");
      return;
    }
    picker.addEventListener("change", () => show(picker.value));
    await show(sessions[0].id);
  } catch (error) {
    $("status").textContent = t("results.failed", { error: error.message });
  }
}

// The downloads fetch with the key in a header and save what came back: a link with the key
// in its URL would put it in the server's and any proxy's logs.
async function download(event) {
  event.preventDefault();
  const link = event.currentTarget;
  const path = new URL(link.href).pathname;
  // /api/sessions/3/results.votes.csv -> handsup-session-3.votes.csv, as the server names it
  const found = path.match(/\/sessions\/(\d+)\/results\.(.+)$/);
  if (!found) return; // no session shown yet
  const name = `handsup-session-${found[1]}.${found[2]}`;
  try {
    const response = await fetch(path, { headers: { "X-Handsup-Key": key } });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const url = URL.createObjectURL(await response.blob());
    const save = el("a", { href: url, download: name });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000); // the download has its own copy by then
  } catch (error) {
    $("status").textContent = t("results.failed", { error: error.message });
  }
}
for (const id of ["csv", "json", "votes-csv", "keepsake"]) $(id).addEventListener("click", download);

main();
