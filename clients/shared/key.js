// The presenter's or moderator's key for this page. Links carry it in the fragment
// (`#key=…`), which a browser never sends to a server: it cannot land in a proxy's access or
// error log. An older link's `?key=…` still works; it is moved into the fragment at once, so
// that a reload or a bookmark no longer sends it.

/** The key from `#key=…`, else from `?key=…` (then taken out of the query); "" if none. */
export function pageKey() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("key");
  if (fromFragment) return fromFragment;
  const params = new URLSearchParams(location.search);
  const fromQuery = params.get("key");
  if (!fromQuery) return "";
  params.delete("key");
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}#key=${encodeURIComponent(fromQuery)}`;
  history.replaceState(history.state, "", url);
  return fromQuery;
}
