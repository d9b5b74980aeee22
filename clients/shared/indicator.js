// The small connection indicator every page shows: "Connecting…", "Live", "Reconnecting…",
// and "Reconnecting… votes are kept" while the server's shared log (Redis) is away.
import { t } from "/static/shared/i18n.js";

const KNOWN = new Set(["connecting", "live", "reconnecting", "stopped", "waiting"]);

/** Show a connection status in `node` (an aria-live="polite" element with class "conn"). */
export function showConnection(node, status) {
  node.textContent = KNOWN.has(status) ? t(`conn.${status}`) : status;
  node.dataset.status = status;
}
