// Who the shopper is: a stable anonymous id in localStorage (or the merchant's own id
// after identify), and a visit id that changes after 30 minutes without activity.
const USER = "mercato_uid";
const SESSION = "mercato_sid";
const VISIT_GAP_MS = 30 * 60 * 1000;

function store(kind) {
  try {
    return window[kind];
  } catch {
    return null;
  }
}

export function randomId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
}

export function shopperIds(explicitUser) {
  const local = store("localStorage");
  const session = store("sessionStorage");
  let user = explicitUser || (local && local.getItem(USER));
  if (!user) {
    user = randomId();
    if (local) local.setItem(USER, user);
  }
  const ids = {
    user,
    session() {
      const now = Date.now();
      let [id, seen] = ((session && session.getItem(SESSION)) || "").split("|");
      if (!id || now - Number(seen) > VISIT_GAP_MS) id = randomId();
      if (session) session.setItem(SESSION, `${id}|${now}`);
      return id;
    },
    identify(userId) {
      if (!userId) return;
      ids.user = String(userId);
      if (local) local.setItem(USER, ids.user);
    },
  };
  return ids;
}
