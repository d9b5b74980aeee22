// What a screen reader hears when the talk moves on: one polite status region per page, told
// each change once (a new slide, voting opened or closed, results shown, the screen paused).
import { t } from "/static/shared/i18n.js";

/**
 * What changed between two states ({position, total, slide, poll, blackout}), as one sentence
 * to announce, or "" when nothing worth saying did. `before` is null for the first state: the
 * page just opened, and its own content says where it is.
 */
export function describeChange(before, after) {
  if (!before || !after) return "";
  const said = [];
  if (after.blackout !== before.blackout) {
    said.push(after.blackout ? t("paused") : t("announce.resumed"));
  }
  if (after.position !== before.position || after.slide?.id !== before.slide?.id) {
    const title = after.slide?.poll?.question || after.slide?.title || "";
    const where = t("announce.slide", { position: after.position + 1, total: after.total });
    said.push(title ? `${where}: ${title}` : where);
  }
  const was = before.poll?.id === after.poll?.id ? before.poll : null;
  const now = after.poll;
  if (now && now.status !== (was?.status ?? "idle")) {
    if (now.status === "open") said.push(t("poll.open"));
    if (now.status === "closed") said.push(t("poll.closed"));
  }
  if (now?.revealed && !was?.revealed) said.push(t("announce.results"));
  return said.join(". ");
}

/** Say `text` in `region` (role="status"); the same text again is said again. */
export function announce(region, text) {
  if (!text) return;
  // Screen readers announce a change of content: clear first so a repeat is still a change.
  // A timer, not an animation frame: frames stop while the page is hidden or the machine busy.
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/**
 * Replace `holder`'s slide with `article`; when focus was inside the old slide, move it to the
 * new slide's heading, so a keyboard or screen-reader user is not dropped on <body>.
 */
export function swapSlide(holder, article) {
  const hadFocus = holder.contains(document.activeElement) && document.activeElement !== holder;
  holder.replaceChildren(article);
  if (!hadFocus) return;
  const heading = article.querySelector("h1, h2, h3") ?? article;
  heading.tabIndex = -1;
  heading.focus();
}

/**
 * A running count (voters so far) said at most once every `every` ms: the first change at once,
 * later ones gathered and the latest said when the quiet time is over. 25 votes in 5 seconds
 * are one or two announcements, not 25.
 */
export class Summary {
  #said = "";
  #waiting = "";
  #last = -Infinity;
  #timer = null;

  constructor(region, every = 12000) {
    this.region = region;
    this.every = every;
  }

  offer(text) {
    if (!text || text === this.#said) {
      this.#waiting = "";
      return;
    }
    const wait = this.#last + this.every - performance.now();
    if (wait <= 0) {
      this.#say(text);
      return;
    }
    this.#waiting = text;
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      if (this.#waiting) this.#say(this.#waiting);
    }, wait);
  }

  #say(text) {
    this.#said = text;
    this.#waiting = "";
    this.#last = performance.now();
    announce(this.region, text);
  }
}
