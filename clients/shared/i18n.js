// Interface strings in the reader's language: one catalogue per language (locales/*.json),
// chosen from the browser's languages by BCP 47 lookup; plurals by Intl.PluralRules, numbers
// and percentages by Intl.NumberFormat. A string a catalogue lacks is read from English.

/** The languages with a catalogue; English is complete and the fallback for every string. */
export const AVAILABLE = ["en", "fr", "de", "es", "cy", "ar"];
const FALLBACK = "en";
const BASE = new URL("./locales/", import.meta.url);

/**
 * BCP 47 lookup (RFC 4647 §3.4): for each requested tag in order, try it, then drop subtags
 * from the end ("fr-CA-x" -> "fr-CA" -> "fr") until one is available; else the fallback.
 */
export function negotiate(requested, available = AVAILABLE, fallback = FALLBACK) {
  const lower = new Map(available.map((tag) => [tag.toLowerCase(), tag]));
  for (const tag of requested || []) {
    const parts = String(tag).toLowerCase().split("-");
    while (parts.length) {
      const found = lower.get(parts.join("-"));
      if (found) return found;
      parts.pop();
      // A single-letter subtag (an extension or private use) never stands on its own.
      if (parts.length && parts[parts.length - 1].length === 1) parts.pop();
    }
  }
  return fallback;
}

async function fetchCatalogue(lang) {
  try {
    const response = await fetch(new URL(`${lang}.json`, BASE));
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

const english = await fetchCatalogue(FALLBACK);
let active = FALLBACK;
let strings = english;

/** The language the interface speaks now. */
export function language() {
  return active;
}

// Languages written right to left, of those with a catalogue (and those likely next).
const RIGHT_TO_LEFT = new Set(["ar", "he", "fa", "ur"]);

/** The interface language's direction: "rtl" or "ltr". */
export function direction() {
  return RIGHT_TO_LEFT.has(active) ? "rtl" : "ltr";
}

/** Speak the best of `requested` (default: the browser's languages) that has a catalogue. */
export async function useLanguage(requested = navigator.languages) {
  const lang = negotiate(requested);
  strings = lang === FALLBACK ? english : await fetchCatalogue(lang);
  active = lang;
  return lang;
}

function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function lookup(key, lang) {
  const table = lang === active ? strings : english;
  const value = table[key];
  return typeof value === "string" ? value : null;
}

/** The string `key`, with `{name}` filled from `params`; English when this language lacks it. */
export function t(key, params = {}) {
  const template = lookup(key, active) ?? lookup(key, FALLBACK) ?? "";
  return fill(template, params);
}

/**
 * A counted string: `key.one`, `key.other`, `key.two`... picked by the active language's plural
 * rules for `count`; `{count}` is the number formatted for that language.
 */
export function plural(key, count, params = {}) {
  const all = { count: number(count), ...params };
  const form = new Intl.PluralRules(active).select(count);
  const own = lookup(`${key}.${form}`, active) ?? lookup(`${key}.other`, active);
  if (own !== null) return fill(own, all);
  const fallbackForm = new Intl.PluralRules(FALLBACK).select(count);
  return fill(lookup(`${key}.${fallbackForm}`, FALLBACK) ?? lookup(`${key}.other`, FALLBACK) ?? "", all);
}

/**
 * The string `key` as pieces to append to an element: `{name}` filled from `params`, where a
 * param that is a DOM node (a `<bdi>` holding an address, say) is kept as that node.
 */
export function parts(key, params = {}) {
  const template = lookup(key, active) ?? lookup(key, FALLBACK) ?? "";
  return template
    .split(/(\{\w+\})/)
    .filter(Boolean)
    .map((piece) => {
      const name = /^\{(\w+)\}$/.exec(piece)?.[1];
      if (!name || !(name in params)) return piece;
      const value = params[name];
      return typeof value === "object" && value !== null ? value : String(value);
    });
}

/** A number as this language writes it ("1,234" in English, "1 234" in French). */
export function number(value, options = {}) {
  return new Intl.NumberFormat(active, options).format(value);
}

/** A share (0..1) as a whole percentage in this language: "60%" in English, "60 %" in German. */
export function percent(share) {
  return new Intl.NumberFormat(active, { style: "percent", maximumFractionDigits: 0 }).format(share);
}

/**
 * Translate the page's fixed text: `data-i18n="key"` sets an element's text, and
 * `data-i18n-attr="aria-label:key;placeholder:key"` its attributes, and `data-i18n-lang` marks
 * a part the scripts fill with translated text. Marked elements take the interface's language,
 * which may differ from the deck's (`<html lang>`).
 */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
    node.lang = active;
    node.dir = direction();
  }
  // Parts of the page whose text the scripts write in the interface's language.
  for (const node of root.querySelectorAll("[data-i18n-lang]")) node.lang = active;
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [name, key] = pair.split(":");
      if (name && key) node.setAttribute(name.trim(), t(key.trim()));
    }
  }
}

// Every page speaks its reader's language from the start.
await useLanguage();
