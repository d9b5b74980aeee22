// The quiz's standings: a podium for the first three, then places four to ten.
import { el } from "/static/shared/dom.js";

const points = (n) => `${n.toLocaleString()} ${n === 1 ? "point" : "points"}`;

/** Fill `area` with `board` ({players, top: [{rank, name, score}]}) from the state. */
export function renderLeaderboard(area, board) {
  if (!area || !board) return;
  const top = board?.top ?? [];
  if (!top.length) {
    area.replaceChildren(el("p", { class: "leaderboard-empty", text: "No scores yet: answer a quiz question to get on the board." }));
    return;
  }
  const podium = el(
    "ol",
    { class: "podium", "aria-label": "Top three" },
    ...top.slice(0, 3).map((row) =>
      el(
        "li",
        { class: `podium-place place-${row.rank}` },
        el("span", { class: "podium-rank", text: String(row.rank) }),
        el("bdi", { class: "podium-name", text: row.name }),
        el("span", { class: "podium-score", text: points(row.score) }),
      ),
    ),
  );
  const rest = el(
    "ol",
    { class: "standings", "aria-label": "Places four to ten" },
    ...top.slice(3).map((row) =>
      el(
        "li",
        { class: "standing" },
        el("span", { class: "standing-rank", text: String(row.rank) }),
        el("bdi", { class: "standing-name", text: row.name }),
        el("span", { class: "standing-score", text: points(row.score) }),
      ),
    ),
  );
  const players = el("p", { class: "leaderboard-players", text: `${board.players} ${board.players === 1 ? "player" : "players"}` });
  area.replaceChildren(podium, ...(top.length > 3 ? [rest] : []), players);
}

/** This phone's own standing, from a `score` message. */
export function renderMine(node, score) {
  if (!node) return;
  if (!score || score.rank === null) {
    node.textContent = score?.players ? "You have no score yet." : "";
    return;
  }
  node.textContent = `You are number ${score.rank} of ${score.players} with ${points(score.score)}`;
}
