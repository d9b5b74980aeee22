// Every poll kind's renderers, by the `type` the server gives a poll. A new kind: one module
// beside this one, exporting audience/display/presenter/preview/wire/describe, added here.
// Optional: confirmed (the phone's "your answer is in"), full (nothing more to send), merge
// (a kind that collects entries: what is unsent plus a new one) and voters (how the display
// counts those who answered: "12 people" rather than "12 votes").
import * as choice from "/static/shared/kinds/choice.js";
import * as ideas from "/static/shared/kinds/ideas.js";
import * as scale from "/static/shared/kinds/scale.js";
import * as text from "/static/shared/kinds/text.js";
import * as words from "/static/shared/kinds/words.js";

export const KINDS = { choice, words, text, scale, ideas };

/** The renderers for a poll (a poll of a type this page does not know shows as a choice). */
export function kindOf(poll) {
  return KINDS[poll?.type] ?? choice;
}
