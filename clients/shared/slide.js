// Renders one slide view (as the server sends it) into DOM, for every slide kind.
// Only `slide.html`, `cell.html` and Marp's header and footer (all sanitised by the server) go
// in as HTML; all else is text.
import { el, letter } from "/static/shared/dom.js";
import { t } from "/static/shared/i18n.js";

/** Largest auto-fit size (em of the slide's base size) per kind, where fitting is asked for. */
const FIT_MAX = {
  statement: 2.6,
  title: 1.15,
  bullets: 1.3,
  numbered: 1.3,
  quote: 1.2,
  content: 1.3,
  steps: 1.3,
  grid: 1.5,
  link: 1.2,
  poll: 1.25,
};

function fromHtml(html) {
  const template = document.createElement("template");
  template.innerHTML = html || "";
  return template.content;
}

function htmlBlock(html, className = "slide-html") {
  const block = el("div", { class: className, dir: "auto" });
  block.append(fromHtml(html));
  return block;
}

/** "https://example.org/" -> "example.org": what people read and type. */
export function shortUrl(url) {
  return String(url || "").replace(/^https?:\/\//i, "").replace(/\/$/, "");
}

function linkParts(slide) {
  // The deck usually gives a link slide as a lone link; it is shown big below, so drop
  // paragraphs that hold nothing but a link and keep any other words around it.
  const rest = fromHtml(slide.html);
  for (const paragraph of rest.querySelectorAll("p")) {
    const links = paragraph.querySelectorAll("a");
    if (links.length === 1 && paragraph.textContent.trim() === links[0].textContent.trim()) {
      paragraph.remove();
    }
  }
  const parts = [];
  if (rest.textContent.trim()) {
    const block = el("div", { class: "slide-html", dir: "auto" });
    block.append(rest);
    parts.push(block);
  }
  const link = el("a", {
    href: slide.url,
    target: "_blank",
    rel: "noopener noreferrer",
    text: shortUrl(slide.url),
  });
  parts.push(
    el(
      "div",
      { class: "link-row" },
      el("p", { class: "link-url" }, link),
      el("img", {
        class: "link-qr",
        src: `/qr/slide/${slide.index}.svg`,
        alt: `QR code for ${slide.url}`,
      }),
    ),
  );
  return parts;
}

function cells(slide) {
  return (slide.cells || []).map((cell) =>
    el("section", { class: "cell" }, el("h2", { dir: "auto", text: cell.heading }), htmlBlock(cell.html, "cell-html")),
  );
}

function steps(slide) {
  const list = el("ol", { class: "steps" });
  (slide.cells || []).forEach((cell, index) => {
    const item = el(
      "li",
      { class: "step" },
      index > 0 ? el("span", { class: "step-arrow", "aria-hidden": "true", text: "↓" }) : null,
      el(
        "div",
        { class: "rung" },
        el("span", { class: "step-name", dir: "auto", text: cell.heading }),
        cell.html ? htmlBlock(cell.html, "step-text") : null,
      ),
    );
    item.style.setProperty("--i", String(index));
    list.append(item);
  });
  return list;
}

/** A plain list of a poll's options with their letters (previews, idle screens). */
export function optionList(options) {
  return el(
    "ol",
    { class: "option-list" },
    ...options.map((text, index) =>
      el(
        "li",
        {},
        el("span", { class: "option-letter", "aria-hidden": "true", text: letter(index) }),
        el("span", { class: "option-text", dir: "auto", text }),
      ),
    ),
  );
}

/**
 * Marp's colours on any screen, and, on a stage (`fit`: projector, presenter previews), its
 * header, footer and page number. Colours are the server's validated ones (a name, #hex, rgb(),
 * hsl()), both or neither, set through the CSSOM: never markup, never a URL.
 */
function decorate(article, slide, stage) {
  const decor = slide.decor;
  if (!decor) return;
  if (decor.background && decor.color) {
    article.classList.add("coloured");
    article.style.setProperty("--slide-paper", decor.background);
    article.style.setProperty("--slide-ink", decor.color);
  }
  if (!stage) return;
  if (decor.header) article.append(htmlBlock(decor.header, "slide-header"));
  if (decor.footer) article.append(htmlBlock(decor.footer, "slide-footer"));
  if (decor.paginate) {
    article.append(el("div", { class: "slide-page", text: String(slide.index + 1) }));
  }
}

/**
 * An <article class="slide kind-…"> for this slide. Poll slides get an empty `.poll-area`
 * for the page to fill (buttons, bars or a plain list). With `fit`, blocks to auto-fit carry
 * data-fit (see fit.js).
 */
export function renderSlide(slide, { fit = false } = {}) {
  const kind = slide.kind;
  const article = el("article", {
    class: `slide kind-${kind}`,
    "data-index": slide.index,
    "aria-roledescription": "slide",
    "aria-label": slide.title || `Slide ${slide.index + 1}`,
  });
  const body = el("div", { class: "slide-body" });
  if (fit) body.dataset.fit = String(FIT_MAX[kind] ?? 1);
  switch (kind) {
    case "grid":
      if (slide.html) body.append(htmlBlock(slide.html));
      body.append(el("div", { class: `cells cells-${(slide.cells || []).length}` }, ...cells(slide)));
      break;
    case "steps":
      if (slide.html) body.append(htmlBlock(slide.html));
      body.append(steps(slide));
      break;
    case "link":
      body.append(...linkParts(slide));
      break;
    case "image": {
      const block = htmlBlock(slide.html);
      if (!block.querySelector("img") && slide.image) {
        block.append(el("img", { src: slide.image, alt: slide.title || "" }));
      }
      body.append(block);
      break;
    }
    case "poll": {
      const poll = slide.poll;
      body.append(el("h1", { class: "poll-question", dir: "auto", text: poll.question }));
      if (slide.html) body.append(htmlBlock(slide.html));
      body.append(el("div", { class: "poll-area", "data-type": poll.type ?? "choice" }));
      if (poll.source) body.append(el("p", { class: "poll-source" }, t("source"), el("bdi", { text: poll.source })));
      break;
    }
    case "leaderboard":
      if (slide.html) body.append(htmlBlock(slide.html));
      body.append(el("div", { class: "leaderboard-area" }));
      break;
    case "questions":
      // The audience's questions: the display fills the area (clients/shared/qa.js).
      if (slide.html) body.append(htmlBlock(slide.html));
      body.append(el("div", { class: "questions-area", "aria-live": "polite" }));
      break;
    default: {
      // title, statement, bullets, numbered, quote, content: the server's HTML says it all.
      const block = htmlBlock(slide.html);
      if (block.querySelectorAll("li").length > 6) article.classList.add("many");
      body.append(block);
    }
  }
  article.append(body);
  decorate(article, slide, fit);
  return article;
}
