// Events are queued and sent in batches (POST {T}/events/batch); when the page is hidden
// or unloaded the queue goes out with navigator.sendBeacon, which cannot carry headers,
// so the beacon endpoint takes the publishable key in its query string.
import { randomId } from "./identity.js";

const BATCH = 20;
const WAIT_MS = 2000;

export function createTracker({ base, beacon, options, ids, headers }) {
  let queue = [];
  let timer = 0;

  function send(events, unloading) {
    const body = JSON.stringify({ events });
    if (unloading && navigator.sendBeacon) {
      const url =
        `${beacon.replace(/\/$/, "")}/sdk/v1/events?tenant=${encodeURIComponent(options.tenant)}` +
        `&key=${encodeURIComponent(options.key)}`;
      if (navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }))) return;
    }
    fetch(`${base}/events/batch`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body,
      keepalive: body.length < 60000,
    }).catch(() => {});
  }

  function flush(unloading) {
    clearTimeout(timer);
    timer = 0;
    while (queue.length) send(queue.splice(0, 500), unloading === true);
  }

  function track(type, props) {
    queue.push({
      type,
      user_id: ids.user,
      session_id: ids.session(),
      event_id: randomId(),
      timestamp: new Date().toISOString(),
      ...props,
    });
    if (queue.length >= BATCH) flush();
    else if (!timer) timer = setTimeout(flush, WAIT_MS);
  }

  const leave = () => flush(true);
  addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leave();
  });
  return { track, flush };
}
