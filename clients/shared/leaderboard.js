// The quiz's standings: a podium for the first three, then places four to ten.
import { el } from "/static/shared/dom.js";
import { plural, t } from "/static/shared/i18n.js";

const points = (n) => plural("board.points", n);

/** Fill `area` with `board` ({players, top: [{rank, name, score}]}) from the state. */
export function renderLeaderboard(area, board) {
  if (!area || !board) return;
  const top = board?.top ?? [];
  if (!top.length) {
    area.replaceChildren(el("p", { class: "leaderboard-empty", text: t("board.empty") }));
    return;
  }
  const podium = el(
    "ol",
    { class: "podium", "aria-label": t("board.top") },
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
    { class: "standings", "aria-label": t("board.rest") },
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
  const players = el("p", { class: "leaderboard-players", text: plural("board.players", board.players) });
  area.replaceChildren(podium, ...(top.length > 3 ? [rest] : []), players);
}

/** This phone's own standing, from a `score` message. */
export function renderMine(node, score) {
  if (!node) return;
  if (!score || score.rank === null) {
    node.textContent = score?.players ? t("board.none") : "";
    return;
  }
  node.textContent = t("board.mine", { rank: score.rank, players: score.players, points: points(score.score) });
}
