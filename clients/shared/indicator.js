// The small connection indicator every page shows: "Connecting…", "Live", "Reconnecting…".

const LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Disconnected",
};

/** Show a connection status in `node` (an aria-live="polite" element with class "conn"). */
export function showConnection(node, status) {
  node.textContent = LABELS[status] ?? status;
  node.dataset.status = status;
}
