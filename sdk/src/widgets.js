// Recommendation widgets: every element with data-mercato-placement gets the placement's
// configured widget filled with recommendations for this shopper (and data-product-id,
// the product on screen). Nothing is shown when the API fails or has nothing to say.
// Impressions (one per product shown) are sent once, when half of the widget is in the
// viewport; clicks on a product are tracked with the strategy and experiment variant that
// produced it.
const CSS =
  ".mw{font-family:var(--f);color:var(--t);background:var(--b);padding:12px;border-radius:var(--r)}" +
  ".mw h3{margin:0 0 10px;font-size:1.1em}" +
  ".mw ul{display:grid;gap:12px;list-style:none;margin:0;padding:0;grid-template-columns:repeat(var(--c),minmax(0,1fr))}" +
  ".mw-carousel ul{display:flex;overflow-x:auto;scroll-snap-type:x mandatory}" +
  ".mw-carousel li{flex:0 0 calc(100%/var(--c) - 12px);scroll-snap-align:start}" +
  ".mw-list li{display:flex;gap:12px;align-items:center}.mw-list img{width:72px}" +
  ".mw li{border:1px solid #d0d7de;border-radius:var(--r);padding:8px}" +
  ".mw img{width:100%;aspect-ratio:1;object-fit:cover;border-radius:var(--r)}" +
  ".mw b{display:block;margin:6px 0 2px}.mw small{display:block;color:var(--m)}" +
  ".mw a{display:inline-block;margin-top:6px;background:var(--p);color:#fff;padding:4px 10px;border-radius:var(--r);text-decoration:none}";

const MAX_ITEMS = 24;

function element(tag, props, children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  if (children) node.append(...children);
  return node;
}

function safeLink(url) {
  try {
    const parsed = new URL(url, location.href);
    return /^https?:$/.test(parsed.protocol) ? parsed.href : "#";
  } catch {
    return "#";
  }
}

function widgetNode(widget, result, client, placement) {
  const theme = widget.theme;
  const context = {
    placement,
    strategy: result.strategy,
    experiment_id: result.experiment_id || undefined,
    variant: result.variant || undefined,
  };
  const items = result.data.slice(0, widget.max_items).map((item) => {
    const parts = [];
    if (item.image_url)
      parts.push(element("img", { src: new URL(item.image_url, client.options.api).href, alt: item.name, loading: "lazy" }));
    parts.push(element("b", { textContent: item.name }));
    if (widget.show_price && item.price != null)
      parts.push(element("small", { textContent: `${item.price}${item.currency ? " " + item.currency : ""}` }));
    parts.push(element("small", { textContent: item.reason }));
    const target = widget.product_url ? widget.product_url.replace("{product_id}", encodeURIComponent(item.product_id)) : "#";
    const cta = element("a", { href: safeLink(target), textContent: widget.cta_text });
    const li = element("li", {}, parts.concat(cta));
    li.dataset.productId = item.product_id;
    li.addEventListener("click", () =>
      client.track("click", { ...context, product_id: item.product_id }),
    );
    return li;
  });
  const box = element("div", { className: `mw mw-${widget.layout}` });
  const vars = { f: theme.font_family, t: theme.text_color, b: theme.background_color, m: theme.muted_color, p: theme.primary_color, r: `${theme.border_radius}px`, c: widget.columns };
  for (const name in vars) box.style.setProperty(`--${name}`, vars[name]);
  if (widget.title) box.append(element("h3", { textContent: widget.title }));
  box.append(element("ul", {}, items));
  return { box, context };
}

function watchImpression(node, client, context) {
  // One impression per product shown, as the tracking API counts them.
  const seen = () =>
    node.querySelectorAll("li").forEach((li, position) =>
      client.track("impression", { ...context, product_id: li.dataset.productId, properties: { position } }),
    );
  if (!("IntersectionObserver" in window)) return seen();
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        seen();
      }
    },
    { threshold: 0.5 },
  );
  observer.observe(node);
}

async function renderOne(client, host) {
  const placement = host.dataset.mercatoPlacement;
  const params = new URLSearchParams({ placement, user_id: client.ids.user, limit: MAX_ITEMS });
  if (host.dataset.productId) params.set("product_id", host.dataset.productId);
  try {
    const [widget, result] = await Promise.all([
      client.get(`/widgets/${encodeURIComponent(placement)}`),
      client.get(`/recommendations?${params}`),
    ]);
    if (!result.data.length) throw new Error("empty");
    const { box, context } = widgetNode(widget, result, client, placement);
    const root = "mercatoShadow" in host.dataset && host.attachShadow ? host.shadowRoot || host.attachShadow({ mode: "open" }) : host;
    root.replaceChildren(element("style", { textContent: CSS }), box);
    host.hidden = false;
    watchImpression(box, client, context);
  } catch {
    host.hidden = true;
  }
}

export function renderAll(client, root) {
  const hosts = root.querySelectorAll("[data-mercato-placement]");
  return Promise.all(Array.from(hosts, (host) => renderOne(client, host)));
}
