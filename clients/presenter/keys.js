// Keyboard shortcuts for the presenter page; never while typing in a field or a dialog.
const KEYMAP = {
  ArrowRight: "next",
  " ": "next",
  PageDown: "next",
  ArrowLeft: "prev",
  PageUp: "prev",
  g: "goto",
  o: "open",
  c: "close",
  v: "toggle-voting",
  r: "reveal",
  x: "reset",
  b: "blackout",
  j: "join",
  q: "questions",
};

function typing(target) {
  return (
    target instanceof Element &&
    (target.closest("input:not([type=checkbox]), textarea, select, [contenteditable], dialog") !== null)
  );
}

/**
 * Call run(action) for shortcut keys. Single-letter keys (O, C, R, B...) only while
 * `letters()` says so: speech-input users can turn them off (WCAG 2.1.4); arrows and Page
 * keys always work.
 */
export function bindKeys(run, { letters = () => true } = {}) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    // Space and Enter on a focused button press that button, as everywhere else.
    if ((event.key === " " || event.key === "Enter") && event.target.closest?.("button, a")) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const action = KEYMAP[key];
    if (!action) return;
    if (key.length === 1 && key !== " " && !letters()) return;
    event.preventDefault();
    run(action);
  });
}
