// The box a phone types an answer into (a word cloud's, an open question's). It empties only
// once the server has what was sent from it; if the server refuses it (too fast, too long),
// the text stays for another try and the reason shows under the box, in the box's description,
// so a screen reader reads it with the box. The page's alert region announces it as well.
// Until then the sent text stays selected, so typing the next one replaces it.
export class Entry {
  /** `box` an input or textarea; `help` its description; `usual()` what that says otherwise. */
  constructor(box, help, usual) {
    this.box = box;
    this.help = help;
    this.usual = usual;
    this.waiting = null; // {voteId, text}: sent from the box, not yet acknowledged or refused
    this.problem = "";
  }

  /** What the page's answer() gave for the box's text: the vote id to wait for, true if the
   * server already has exactly this, null if it was not sent (voting not open). */
  sent(result) {
    this.#clear();
    if (result === true) this.box.value = "";
    else if (result) {
      this.waiting = { voteId: result, text: this.box.value };
      // Someone typing word after word: what they type next replaces this one rather than
      // running on from it, whether or not its ack has arrived.
      if (document.activeElement === this.box) this.box.select();
    }
  }

  /** The text was changed: an earlier refusal no longer applies to it. */
  edited() {
    this.#clear();
  }

  /** The answer sent with `voteId` was acknowledged (no `problem`) or refused (`problem`). */
  settled(voteId, problem) {
    if (!this.waiting || this.waiting.voteId !== voteId) return;
    const { text } = this.waiting;
    this.waiting = null;
    if (problem) {
      this.problem = problem;
      this.box.setAttribute("aria-invalid", "true");
      this.help.textContent = problem;
    } else if (this.box.value === text) {
      this.box.value = ""; // unless something new was typed meanwhile
      this.help.textContent = this.usual();
    }
  }

  #clear() {
    if (!this.problem) return;
    this.problem = "";
    this.box.removeAttribute("aria-invalid");
    this.help.textContent = this.usual();
  }
}
