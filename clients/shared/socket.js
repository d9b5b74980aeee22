// A reconnecting websocket for one role: hello on every (re)connect, full-jitter exponential
// backoff (0.5 s doubling to 10 s, reset once welcomed), keep-alive pings, a status to show.

const FIRST_DELAY = 500;
const MAX_DELAY = 10_000;
const PING_AFTER = 25_000; // idle this long: send a ping
const PONG_WITHIN = 10_000; // no answer this long after a ping: the connection is dead
const CHECK_EVERY = 5_000;

/** Close codes after which retrying cannot help: a wrong presenter key, no such room. */
export const FATAL_CODES = new Set([4403, 4404]);

/**
 * Statuses: "connecting" (never welcomed yet), "live" (welcomed), "reconnecting" (lost, will
 * retry), "stopped" (refused for good: see onFatal). onStatus also hears "waiting": live, but
 * the server's shared log (Redis, with several workers) is away, so nothing is acknowledged
 * until it is back (a `link` message says so); `status` stays "live" (sending still works).
 */
export class Connection {
  #ws = null;
  #attempt = 0;
  #timer = null;
  #paused = false;
  #stopped = false;
  #everLive = false;
  #lastSent = 0;
  #pingSentAt = null;
  #refusal = null;
  #away = false; // the server's shared log is unreachable (a `link` message)

  /**
   * @param {string} role "audience", "display" or "presenter"
   * @param {{hello: () => object, onMessage?: (m: object) => void,
   *          onStatus?: (s: string) => void, onFatal?: (code: number, error: object|null) => void}} handlers
   */
  constructor(role, { hello, onMessage = () => {}, onStatus = () => {}, onFatal = () => {} }) {
    this.role = role;
    this.hello = hello;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onFatal = onFatal;
    this.status = "connecting";
  }

  /** Connect now and keep connected; also reconnect at once when the device comes back. */
  start() {
    this.#connect();
    setInterval(() => this.#keepAlive(), CHECK_EVERY);
    addEventListener("online", () => this.#now());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.#now();
    });
  }

  /** Start again after a fatal refusal (e.g. the person typed another room code). */
  restart() {
    this.#stopped = false;
    this.#attempt = 0;
    this.#refusal = null;
    this.#drop();
    this.#setStatus("connecting");
    this.#connect();
  }

  /** Disconnect for good (until restart()). */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#drop();
    this.#setStatus("stopped");
  }

  /** What to show: the status, or "waiting" while live but the server's shared log is away. */
  get shown() {
    return this.#away && this.status === "live" ? "waiting" : this.status;
  }

  get live() {
    return this.status === "live";
  }

  /** Send a message if the connection is live; false if it could not be sent now. */
  send(message) {
    if (!this.live || !this.#ws) return false;
    this.#ws.send(JSON.stringify(message));
    this.#lastSent = Date.now();
    return true;
  }

  /** Test hook: drop the connection as a lost network would, and stay down until resume(). */
  pause() {
    this.#paused = true;
    this.#drop();
    this.#setStatus("reconnecting");
  }

  /** Test hook: let the connection come back. */
  resume() {
    this.#paused = false;
    this.#now();
  }

  #url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/${this.role}`;
  }

  #connect() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#paused || this.#stopped || this.#ws) return;
    let ws;
    try {
      ws = new WebSocket(this.#url());
    } catch {
      this.#retry();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify(this.hello()));
      this.#lastSent = Date.now();
    };
    ws.onmessage = (event) => {
      if (ws !== this.#ws) return;
      this.#pingSentAt = null;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "pong") return;
      if (message.type === "link") {
        this.#away = message.status === "away";
        this.onStatus(this.shown);
        return;
      }
      if (message.type === "welcome") {
        this.#attempt = 0;
        this.#everLive = true;
        this.#away = false; // a new socket: its server says so after the welcome if away
        this.#setStatus("live");
      } else if (!this.live) {
        // Before the welcome only a refusal can come: keep it for onFatal.
        if (message.type === "error") this.#refusal = message;
        return;
      }
      this.onMessage(message);
    };
    ws.onclose = (event) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      if (FATAL_CODES.has(event.code)) {
        this.#stopped = true;
        this.#setStatus("stopped");
        this.onFatal(event.code, this.#refusal);
        return;
      }
      this.#retry();
    };
  }

  #retry() {
    if (this.#paused || this.#stopped) return;
    this.#setStatus(this.#everLive ? "reconnecting" : "connecting");
    const ceiling = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** this.#attempt);
    this.#attempt += 1;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), Math.random() * ceiling);
  }

  /** Skip the backoff wait (the network or the screen just came back). */
  #now() {
    if (this.#ws || this.#paused || this.#stopped) return;
    this.#connect();
  }

  /** Forget the current socket without waiting for a close handshake that may never come. */
  #drop() {
    const ws = this.#ws;
    this.#ws = null;
    this.#pingSentAt = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(1000, "going away");
    } catch {
      // already closed
    }
  }

  #keepAlive() {
    if (!this.live || !this.#ws) return;
    const now = Date.now();
    if (this.#pingSentAt !== null) {
      if (now - this.#pingSentAt > PONG_WITHIN) {
        this.#drop();
        this.#retry();
      }
    } else if (now - this.#lastSent >= PING_AFTER) {
      this.send({ type: "ping" });
      this.#pingSentAt = now;
    }
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(this.shown);
  }
}
