// The presenter's elapsed-time clock: counts from when the page opened (kept across a reload).
const KEY = "handsup.clock.start";

function started() {
  try {
    const saved = Number(sessionStorage.getItem(KEY));
    if (saved > 0) return saved;
    const now = Date.now();
    sessionStorage.setItem(KEY, String(now));
    return now;
  } catch {
    return Date.now();
  }
}

function format(ms) {
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Tick `display` every second; `reset` (a button) starts again from zero. */
export function startClock(display, reset) {
  let start = started();
  const tick = () => {
    display.textContent = format(Date.now() - start);
  };
  reset.addEventListener("click", () => {
    start = Date.now();
    try {
      sessionStorage.setItem(KEY, String(start));
    } catch {
      // not kept: fine
    }
    tick();
  });
  tick();
  setInterval(tick, 1000);
}
