// The data notice on a phone: shown on joining (once per room), and again from "Your data";
// from there a person can delete everything they typed in this talk.
import { el, flash } from "/static/shared/dom.js";
import { t } from "/static/shared/i18n.js";
import { load, save } from "/static/shared/store.js";

export class PrivacyNotice {
  constructor(root, footer, send) {
    this.send = send;
    this.room = null;
    this.presenterText = el("p", { class: "privacy-text" });
    this.notice = el("p", { class: "privacy-notice" });
    this.status = el("p", { class: "privacy-status", role: "status", "aria-live": "polite" });
    const ok = el("button", { type: "button", class: "primary", text: t("privacy.ok") });
    const erase = el("button", { type: "button", class: "danger", text: t("privacy.erase") });
    this.panel = el(
      "section",
      { id: "privacy", class: "privacy", "aria-labelledby": "privacy-title", hidden: true },
      el("h2", { id: "privacy-title", text: t("privacy.title") }),
      this.presenterText,
      this.notice,
      el("p", { class: "privacy-buttons" }, ok, erase),
      this.status,
    );
    root.prepend(this.panel);
    this.open = el("button", { type: "button", class: "link-button", text: t("privacy.open"), hidden: true });
    footer.append(this.open);
    ok.addEventListener("click", () => this.show(false));
    this.open.addEventListener("click", () => this.show(true));
    erase.addEventListener("click", () => {
      if (!window.confirm(t("privacy.confirm"))) return;
      this.send({ type: "forget_me" });
      flash(this.status, t("privacy.deleting"), 0);
    });
  }

  show(on) {
    this.panel.hidden = !on;
    if (on) this.panel.querySelector("h2").focus?.();
    else if (this.room) save(localStorage, `handsup.privacy-seen.${this.room}`, true);
  }

  /** The room's notice, from each state; shown by itself the first time in a room. */
  update(room, privacy) {
    this.open.hidden = !privacy;
    if (!privacy) return;
    this.presenterText.textContent = privacy.text ?? "";
    this.presenterText.hidden = !privacy.text;
    this.notice.textContent = privacy.notice;
    if (this.room !== room) {
      this.room = room;
      if (!load(localStorage, `handsup.privacy-seen.${room}`, false)) this.show(true);
    }
  }

  /** The server deleted what this phone typed (and it is durable). */
  forgotten() {
    flash(this.status, t("privacy.done"));
  }
}
