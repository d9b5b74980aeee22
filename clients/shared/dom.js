// Tiny DOM helpers: build elements with text (never HTML) and name poll options by letter.

/**
 * el("p", {class: "note", text: "Hi"}, child, ...): an element; `text` is set as textContent,
 * other props as attributes (true: present, false/null: absent).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value ?? "";
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** A, B, C… for options 0, 1, 2…; numbers past Z. */
export function letter(index) {
  return index < 26 ? String.fromCharCode(65 + index) : String(index + 1);
}

/** The join URL as people should type it: no query, no trailing slash. */
export function baseUrl(url) {
  if (!url) return "";
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, "")}`;
  } catch {
    return url.split("?")[0].replace(/\/$/, "");
  }
}

/**
 * Show `text` in a live region, then clear it after `ms` (0: keep it). The region stays in the
 * page (never hidden) so screen readers announce what appears in it; empty, it takes no room.
 */
export function flash(region, text, ms = 6000) {
  clearTimeout(region._flashTimer);
  region.textContent = text;
  if (ms > 0) {
    region._flashTimer = setTimeout(() => {
      region.textContent = "";
    }, ms);
  }
}

/**
 * The deck's language and direction on the whole page (`<html lang dir>`), so screen readers
 * read the slides with the right voice and a right-to-left deck mirrors.
 */
export function setDocumentLanguage(lang, dir) {
  const root = document.documentElement;
  if (lang && root.lang !== lang) root.lang = lang;
  const direction = dir === "rtl" ? "rtl" : "ltr";
  if (root.dir !== direction) root.dir = direction;
}
