// This phone's votes in one room: what the server confirmed, and what is still to be sent.
// Unsent votes live in localStorage with their vote_id, so a vote made offline survives a
// reload and is resent with the same id (the server counts it once).
import { load, save } from "/static/shared/store.js";

/** A fresh vote id: 16 random bytes, base64url (crypto.randomUUID needs HTTPS; this does not). */
export function newVoteId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class VoteBook {
  constructor(room) {
    this.key = `handsup.pending.${room}`;
    this.pending = load(localStorage, this.key, {}) || {}; // poll id -> {poll, option, vote_id}
    this.confirmed = {}; // poll id -> option the server has recorded
  }

  /** The votes the server already holds for us (from `welcome`): the whole truth. */
  restore(votes) {
    this.confirmed = { ...(votes || {}) };
  }

  /** Record a tap; returns the vote message body to send (now or on reconnect). */
  choose(poll, option) {
    const vote = { poll, option, vote_id: newVoteId() };
    this.pending[poll] = vote;
    this.#save();
    return vote;
  }

  /** A vote_ack arrived. */
  acked({ poll, option, vote_id: voteId }) {
    this.confirmed[poll] = option;
    if (this.pending[poll]?.vote_id === voteId) {
      delete this.pending[poll];
      this.#save();
    }
  }

  /** An error with this ref arrived: drop the matching unsent vote; true if there was one. */
  refused(ref) {
    for (const [poll, vote] of Object.entries(this.pending)) {
      if (vote.vote_id === ref) {
        delete this.pending[poll];
        this.#save();
        return true;
      }
    }
    return false;
  }

  /** The poll was reset: our recorded vote is gone. */
  forget(poll) {
    delete this.confirmed[poll];
  }

  /** Unsent votes, oldest poll first. */
  unsent() {
    return Object.values(this.pending);
  }

  isPending(poll) {
    return poll in this.pending;
  }

  /** The option to show as chosen: the one being sent, else the recorded one, else null. */
  choice(poll) {
    return this.pending[poll]?.option ?? this.confirmed[poll] ?? null;
  }

  #save() {
    save(localStorage, this.key, Object.keys(this.pending).length ? this.pending : null);
  }
}
