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
    (target.closest("input, textarea, select, [contenteditable], dialog") !== null)
  );
}

/** Call run(action) for shortcut keys. */
export function bindKeys(run) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    // Space and Enter on a focused button press that button, as everywhere else.
    if ((event.key === " " || event.key === "Enter") && event.target.closest?.("button, a")) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const action = KEYMAP[key];
    if (!action) return;
    event.preventDefault();
    run(action);
  });
}
