// Mercato JS SDK: event tracking and recommendation widgets for a merchant's pages.
// Loaded by <script src=".../sdk/v1/mercato.js" data-key data-tenant data-api async>;
// exposes only window.Mercato and never throws into the host page.
import { createTracker } from "./tracker.js";
import { renderAll } from "./widgets.js";
import { shopperIds } from "./identity.js";

function fromScriptTag() {
  const tag = document.currentScript;
  if (!tag) return {};
  const data = tag.dataset;
  return {
    key: data.key,
    tenant: data.tenant,
    api: data.api || (tag.src ? new URL(tag.src).origin : location.origin),
    autoRender: data.render !== "false",
  };
}

function createClient(options) {
  const ids = shopperIds(options.userId);
  const base = `${options.api.replace(/\/$/, "")}/api/v1/tenants/${options.tenant}`;
  const headers = { "X-API-Key": options.key };
  const get = (path) =>
    fetch(base + path, { headers }).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  const tracker = createTracker({ base, beacon: options.api, options, ids, headers });
  return {
    options,
    ids,
    get,
    track: tracker.track,
    flush: tracker.flush,
  };
}

let client = null;

const Mercato = {
  /** Start (again) with explicit options; the script tag's data-* attributes do it for you. */
  init(options) {
    const merged = { ...fromScriptTag(), ...options };
    if (!merged.key || !merged.tenant || !merged.api) return null;
    client = createClient(merged);
    if (merged.autoRender !== false) {
      const start = () => renderAll(client, document);
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start, { once: true });
      } else {
        start();
      }
    }
    return Mercato;
  },
  /** Record a shopper event (`view_item`, `add_to_cart`, `purchase`, …); batched. */
  track(type, props) {
    if (client) client.track(type, props);
  },
  /** Fill every `[data-mercato-placement]` element under `root` (default: the page). */
  render(root) {
    return client ? renderAll(client, root || document) : Promise.resolve();
  },
  /** Send queued events now. */
  flush() {
    if (client) client.flush();
  },
  /** The shopper id events and recommendations use (a logged-in id after `identify`). */
  get userId() {
    return client ? client.ids.user : null;
  },
  identify(userId) {
    if (client) client.ids.identify(userId);
  },
};

window.Mercato = Mercato;
Mercato.init({});
