// This phone's answers in one room: what the server confirmed, and what is still to be sent.
// Unsent answers live in localStorage as the message to send, with its vote_id, so an answer
// made offline survives a reload and is resent with the same id (the server counts it once).
import { load, save } from "/static/shared/store.js";

/** A fresh vote id: 16 random bytes, base64url (crypto.randomUUID needs HTTPS; this does not). */
export function newVoteId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class VoteBook {
  constructor(room) {
    this.key = `handsup.pending.${room}`;
    // poll id -> {message, value, vote_id}; kept as the message so any kind can be resent.
    this.pending = load(localStorage, this.key, {}) || {};
    for (const [poll, vote] of Object.entries(this.pending)) {
      if (!vote.message) {
        // Saved by an older page: a choice vote.
        const message = { type: "vote", poll, option: vote.option, vote_id: vote.vote_id };
        this.pending[poll] = { message, value: vote.option, vote_id: vote.vote_id };
      }
    }
    this.confirmed = {}; // poll id -> what the server has recorded
  }

  /** The votes the server already holds for us (from `welcome`): the whole truth. */
  restore(votes) {
    this.confirmed = { ...(votes || {}) };
  }

  /** Record an answer; `toMessage(voteId)` makes its message, returned to send (now or on
   * reconnect). */
  choose(poll, value, toMessage) {
    const voteId = newVoteId();
    const message = toMessage(voteId);
    this.pending[poll] = { message, value, vote_id: voteId };
    this.#save();
    return message;
  }

  /** A vote_ack arrived (`option` for a choice, `answer` for other kinds). */
  acked({ poll, option, answer, vote_id: voteId }) {
    this.confirmed[poll] = answer ?? option;
    if (this.pending[poll]?.vote_id === voteId) {
      delete this.pending[poll];
      this.#save();
    }
  }

  /** An error with this ref arrived: drop the matching unsent vote; its poll id, or null. */
  refused(ref) {
    for (const [poll, vote] of Object.entries(this.pending)) {
      if (vote.vote_id === ref) {
        delete this.pending[poll];
        this.#save();
        return poll;
      }
    }
    return null;
  }

  /** The poll was reset: our recorded vote is gone. */
  forget(poll) {
    delete this.confirmed[poll];
  }

  /** Unsent messages, oldest poll first. */
  unsent() {
    return Object.values(this.pending).map((vote) => vote.message);
  }

  isPending(poll) {
    return poll in this.pending;
  }

  /** The answer to show as chosen: the one being sent, else the recorded one, else null. */
  choice(poll) {
    return this.pending[poll]?.value ?? this.confirmed[poll] ?? null;
  }

  #save() {
    save(localStorage, this.key, Object.keys(this.pending).length ? this.pending : null);
  }
}
