/*
 * The support agent's 360° page (served by the profile API at /support; no framework, no inline script).
 *
 * Stable labels and landmarks (tests and people rely on them):
 *   sign in:   input labelled "API key", button "Sign in" (error text in role=alert); button "Sign out" when signed in
 *   search:    a <search> landmark (role "search") with a form, input labelled "Search customer", button "Search"; status text in role=status
 *   sections (each a region with an h2 of this name): "Identity", "Consent", "Lifecycle and RFM", "Segments", "Orders",
 *              "Support tickets", "Devices", "Timeline"; the timeline's button "More events"
 *   Identity:  a table "Contact details" (type, value, last confirmed); when profiles were merged, text starting
 *              "Merged:" naming the merged profile ids (and "was merged into" when the search named a merged id)
 *   Support tickets: a table "Tickets" (ticket, subject, status, priority, channel, updated, CSAT); open ones first
 *   facts (<dt>/<dd> pairs): Identity "Profile id", "First seen", "Last seen", "Contact last confirmed"; Orders "Orders",
 *              "Revenue", "Refunds", "Last purchase" (and a table "Recent orders"); Support tickets "Open tickets",
 *              "Tickets", "Last CSAT", "Average CSAT"; Lifecycle and RFM "Lifecycle", "RFM", "Churn risk", "CLV";
 *              Devices "Last device", "Last used", "Device types"; Consent is a table "Consent per purpose"
 *   render marker: <main data-render="…">: "loading" while the data calls run, "ready" when every panel is filled,
 *              "error" when the search failed; performance.measure('support:render') spans search → ready.
 *
 * The key stays in sessionStorage (this tab) and goes out only as `Authorization: Bearer`. No PII in URLs the page
 * makes: after a search the fragment holds the profile id (never sent to a server), and the API logs route patterns,
 * not paths. The data calls (profile, segments, timeline page 1, tickets) run in parallel.
 */
const KEY = 'profile-stream.support.api-key';
const LIFECYCLE = ['first-time-buyer', 'occasional', 'loyal', 'at-risk', 'dormant'];
const $ = (id) => document.getElementById(id);

/** An element: h('td', { class: 'x' }, 'text', child, …); strings become text nodes (never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children.flat(Number.POSITIVE_INFINITY)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const DAY = 86_400_000;
function when(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  const d = new Date(iso);
  const days = Math.floor((Date.now() - d.getTime()) / DAY);
  const ago = days <= 0 ? 'today' : days === 1 ? '1 day ago' : days < 60 ? `${days} days ago` : `${Math.round(days / 30.4)} months ago`;
  return h('time', { datetime: iso, title: iso }, `${iso.slice(0, 16).replace('T', ' ')} UTC (${ago})`);
}

function money(minor, currency) {
  try {
    const f = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
    return f.format(minor / 10 ** f.resolvedOptions().maximumFractionDigits);
  } catch {
    return `${minor} ${currency} (minor units)`; // not an ISO 4217 code Intl knows
  }
}

function table(caption, heads, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        heads.map((x) => h('th', { scope: 'col' }, x)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c) => h('td', {}, c ?? '—')),
        ),
      ),
    ),
  );
}

function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]),
  );
}

const fill = (id, ...nodes) => $(id).replaceChildren(...nodes.flat(Number.POSITIVE_INFINITY).filter((n) => n !== null && n !== undefined && n !== false));

// ---- the API ---------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}`, accept: 'application/json' } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.detail ?? `HTTP ${res.status}`);
  return body;
}

const profilePath = (ref) => `/v1/profiles/${encodeURIComponent(ref)}`;

/** What the agent typed, as a ref the API takes. */
export function toRef(text) {
  const q = text.trim();
  if (/^(email|phone|user|anon):/.test(q)) return q;
  if (/^p[0-9a-z]{19}$/.test(q)) return q;
  if (q.includes('@')) return `email:${q}`;
  if (/^\+?[\d\s().-]{6,}$/.test(q)) return `phone:${q}`;
  return `user:${q}`;
}

// ---- panels ----------------------------------------------------------------------------------------------------

function renderIdentity(found) {
  const p = found.profile;
  const id = p.identity ?? {};
  const fresh = p.freshness ?? {};
  const rows = [
    ...(id.emails ?? []).map((v) => ['E-mail', v, when(fresh.email?.[v])]),
    ...(id.phones ?? []).map((v) => ['Phone', v, when(fresh.phone?.[v])]),
    ...(id.user_ids ?? []).map((v) => ['User id', v, h('span', { class: 'muted' }, 'not tracked')]),
    ...(id.anonymous_ids ?? []).map((v) => ['Anonymous id', v, h('span', { class: 'muted' }, 'not tracked')]),
  ];
  const demo = p.demographic ?? {};
  for (const f of ['country', 'locale']) if (demo[f]) rows.push([f === 'country' ? 'Country' : 'Locale', demo[f], freshAt(fresh[f])]);
  const merged = p.merged_ids ?? [];
  fill(
    'identity-body',
    facts([
      ['Profile id', h('code', {}, p.profile_id)],
      ['First seen', when(p.activity?.first_seen_at)],
      ['Last seen', when(p.activity?.last_seen_at)],
      ['Contact last confirmed', 'contact_confirmed_at' in fresh ? when(fresh.contact_confirmed_at) : undefined],
    ]),
    found.merged_into ? h('p', { class: 'note' }, `The profile searched for was merged into ${p.profile_id}.`) : null,
    merged.length
      ? h(
          'p',
          { class: 'note', id: 'merged-note' },
          `Merged: this customer's profile combines ${merged.length + 1} identities; merged profile ids: `,
          merged.map((m, i) => [i ? ', ' : '', h('code', {}, m)]),
        )
      : null,
    table('Contact details', ['Type', 'Value', 'Last confirmed'], rows, 'No identifiers.'),
  );
}

/** A freshness entry that may be a time or absent. */
const freshAt = (v) => (typeof v === 'string' ? when(v) : h('span', { class: 'muted' }, 'not tracked'));

function renderConsent(p) {
  // Consent is last-writer-wins by event time: its `at` is the latest statement (freshness.consent repeats it), not
  // when the value started, so one column says when it was last stated.
  const rows = Object.entries(p.consent ?? {}).map(([purpose, c]) => [
    purpose,
    h('span', { class: c.granted ? 'badge ok' : 'badge no' }, c.granted ? 'Granted' : 'Withdrawn'),
    c.source ?? '—',
    when(c.at),
  ]);
  fill('consent-body', table('Consent per purpose', ['Purpose', 'Consent', 'Source', 'Last stated'], rows, 'No consent recorded.'));
}

const leafText = (l) => `${l.field} ${l.operator} ${JSON.stringify(l.expected)} (is ${JSON.stringify(l.actual)})`;

function renderSegments(segs) {
  const member = segs.segments.filter((s) => s.member);
  const items = member.map((s) =>
    h(
      'li',
      {},
      h('strong', {}, s.name),
      ' ',
      h('code', {}, s.id),
      ' · since ',
      when(s.since),
      h('p', { class: 'why' }, 'Why: ', s.why.conditions.length ? s.why.conditions.map(leafText).join('; ') : 'no condition to show'),
    ),
  );
  fill('segments-body', items.length ? h('ul', { class: 'segments' }, items) : h('p', { class: 'muted' }, 'In no segment.'));
}

function findLeaf(node, field) {
  if (!node) return undefined;
  if (node.kind === 'leaf') return node.field === field && node.actual ? node : undefined;
  for (const c of [node.of].flat()) {
    const l = findLeaf(c, field);
    if (l) return l;
  }
  return undefined;
}

function renderLifecycle(p, segs) {
  const stages = segs.segments.filter((s) => s.member && LIFECYCLE.includes(s.id)).map((s) => s.name);
  const rfm = segs.segments.map((s) => findLeaf(s.why.tree, 'rfm')).find(Boolean)?.actual;
  const pr = p.predictions; // null until `profile-stream predict score` scored the customer
  fill(
    'lifecycle-body',
    facts([
      ['Lifecycle', stages.length ? stages.join(', ') : 'no lifecycle segment'],
      ['RFM', rfm ? `R ${rfm.r} · F ${rfm.f} · M ${rfm.m}` : 'not scored (no purchase)'],
      ['Churn risk', pr?.p_alive == null ? 'not predicted' : `${Math.round((1 - pr.p_alive) * 100)} % (P(alive) ${pr.p_alive.toFixed(2)})`],
      ['CLV', pr?.clv_minor == null ? 'not predicted' : money(pr.clv_minor, pr.currency ?? 'GBP')],
      ['Expected purchases (90 days)', pr?.expected_purchases?.d90 == null ? '—' : pr.expected_purchases.d90.toFixed(1)],
      ['Predicted', pr ? when(pr.scored_at) : '—'],
    ]),
  );
}

function renderOrders(p) {
  const t = p.transactions ?? {};
  const revenue = Object.entries(t.revenue_minor ?? {}).map(([c, m]) => money(m, c));
  const rows = [...(t.purchases ?? [])]
    .reverse()
    .slice(0, 10)
    .map((o) => [when(o.at), o.order_id, money(o.total_minor, o.currency), o.refunded_minor ? money(o.refunded_minor, o.currency) : '—']);
  fill(
    'orders-body',
    facts([
      ['Orders', String(t.orders_count ?? 0)],
      ['Revenue', revenue.length ? revenue.join(', ') : '—'],
      ['Refunds', String(t.refunds_count ?? 0)],
      ['Last purchase', when(t.last_purchase_at)],
    ]),
    table('Recent orders', ['Date', 'Order', 'Total', 'Refunded'], rows, 'No orders.'),
  );
}

const OPEN = new Set(['opened', 'updated', 'reopened']);

function renderTickets(p, ticketEvents) {
  const s = p.support ?? {};
  const latest = new Map(); // ticket id → its newest event (events come newest first)
  for (const e of ticketEvents.events ?? []) if (!latest.has(e.details.ticket_id)) latest.set(e.details.ticket_id, e);
  const tickets = [...latest.values()].sort((a, b) => Number(OPEN.has(b.details.status)) - Number(OPEN.has(a.details.status)));
  const rows = tickets.map((e) => {
    const d = e.details;
    const open = OPEN.has(d.status);
    return [
      d.ticket_id,
      d.subject ?? '—',
      h('span', { class: open ? 'badge no' : 'badge ok' }, open ? `Open (${d.status})` : d.status),
      d.priority,
      d.channel,
      when(e.occurred_at),
      d.satisfaction ?? '—',
    ];
  });
  fill(
    'tickets-body',
    facts([
      ['Open tickets', String(s.open_tickets ?? 0) + (s.open_urgent_tickets ? ` (${s.open_urgent_tickets} urgent)` : '')],
      ['Tickets', String(s.tickets_count ?? 0)],
      ['Last CSAT', s.last_csat ?? '—'],
      ['Average CSAT', s.average_csat ?? '—'],
    ]),
    ticketEvents.error
      ? h('p', { class: 'error' }, `Ticket details unavailable: ${ticketEvents.error}`)
      : table('Tickets', ['Ticket', 'Subject', 'Status', 'Priority', 'Channel', 'Updated', 'CSAT'], rows, 'No tickets.'),
  );
}

function renderDevices(p) {
  const t = p.technology ?? {};
  const last = t.last_device;
  fill(
    'devices-body',
    facts([
      ['Last device', last ? `${last.type}${last.os ? `, ${last.os}` : ''}${last.browser ? `, ${last.browser}` : ''}` : '—'],
      ['Last used', last ? when(last.at) : '—'],
      ['Device types', (t.device_types ?? []).join(', ') || '—'],
    ]),
    (t.devices ?? []).length
      ? h(
          'ul',
          {},
          t.devices.map((d) => h('li', {}, typeof d === 'string' ? d : JSON.stringify(d))),
        )
      : null,
  );
}

/** One line per event: what happened, in words an agent reads at a glance. */
function eventText(e) {
  const d = e.details;
  if (e.type === 'purchase') return `Order ${d.order_id} ${d.status} · ${money(d.total_minor, d.currency)} · ${d.channel}`;
  if (e.type === 'support_ticket') return `Ticket ${d.ticket_id} ${d.status} · ${d.priority} · ${d.channel}${d.subject ? ` · ${d.subject}` : ''}`;
  const what = [d.page_title ?? d.page_url, d.product_sku && `product ${d.product_sku}`, d.search_query && `“${d.search_query}”`];
  if (d.consent_purpose) what.push(`${d.consent_purpose} ${d.consent_granted ? 'granted' : 'withdrawn'}`);
  return [e.type.replace(/_/g, ' '), ...what.filter(Boolean), d.device_type !== 'unknown' && d.device_type].filter(Boolean).join(' · ');
}

let timelineRef;
let timelineCursor = null;

function appendTimeline(page) {
  let list = $('timeline-list');
  if (!list) {
    list = h('ol', { id: 'timeline-list', class: 'timeline' });
    fill('timeline-body', list);
  }
  list.append(...page.events.map((e) => h('li', {}, when(e.occurred_at), ' ', h('span', { class: 'tag' }, e.source), ' ', eventText(e))));
  timelineCursor = page.next_cursor;
  $('timeline-more').hidden = timelineCursor === null;
  if (list.children.length === 0) fill('timeline-body', h('p', { class: 'muted' }, 'No events in the warehouse.'));
}

async function moreEvents() {
  const button = $('timeline-more');
  button.disabled = true;
  try {
    const page = await api(`${profilePath(timelineRef)}/timeline?limit=50&cursor=${encodeURIComponent(timelineCursor)}`);
    appendTimeline(page);
    $('timeline-status').textContent = `${page.events.length} more events loaded.`;
  } catch (err) {
    $('timeline-status').textContent = `Could not load more events: ${err.message}`;
  } finally {
    button.disabled = false;
    if (button.hidden) $('timeline-heading').focus();
  }
}

// ---- flow ------------------------------------------------------------------------------------------------------

/** A call whose failure becomes that panel's message instead of failing the page. */
const soft = (promise) => promise.catch((err) => ({ error: err.message, status: err.status, events: [] }));

async function showCustomer(ref) {
  const main = $('main');
  main.dataset.render = 'loading';
  performance.mark('support:search');
  $('status').textContent = 'Searching…';
  try {
    const [found, segs, page, tickets] = await Promise.all([
      api(profilePath(ref)),
      api(`${profilePath(ref)}/segments?all=1`),
      soft(api(`${profilePath(ref)}/timeline?limit=50`)),
      soft(api(`${profilePath(ref)}/timeline?type=support_ticket&limit=100`)),
    ]);
    const p = found.profile;
    renderIdentity(found);
    renderConsent(p);
    renderSegments(segs);
    renderLifecycle(p, segs);
    renderOrders(p);
    renderTickets(p, tickets);
    renderDevices(p);
    timelineRef = p.profile_id;
    $('timeline-body').replaceChildren();
    $('timeline-status').textContent = '';
    if (page.error) {
      fill('timeline-body', h('p', { class: 'error' }, `Timeline unavailable: ${page.error}`));
      $('timeline-more').hidden = true;
    } else appendTimeline(page);
    $('customer').hidden = false;
    $('status').textContent = `Showing ${p.identity?.emails?.[0] ?? p.identity?.user_ids?.[0] ?? p.profile_id}.`;
    // The fragment names the profile by id (not PII) so a reload shows it again; it never reaches a server.
    history.replaceState(null, '', `#${p.profile_id}`);
    main.dataset.render = 'ready';
    performance.measure('support:render', 'support:search');
  } catch (err) {
    main.dataset.render = 'error';
    $('customer').hidden = true;
    if (err.status === 401) return signOut('The API key was refused (unknown, revoked or malformed). Sign in again.');
    $('status').textContent = err.status === 404 ? 'No customer found for that search.' : `Search failed: ${err.message}`;
  }
}

function signedIn() {
  $('login').hidden = true;
  $('search').hidden = false;
  $('session').hidden = false;
  $('q').focus();
  const id = location.hash.slice(1);
  if (/^p[0-9a-z]{19}$/.test(id)) showCustomer(id);
}

function signOut(message = '') {
  sessionStorage.removeItem(KEY);
  $('login').hidden = false;
  $('search').hidden = true;
  $('session').hidden = true;
  $('customer').hidden = true;
  $('login-error').textContent = message;
  $('api-key').value = '';
  $('api-key').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) {
    $('login-error').textContent = 'Enter an API key.';
    return;
  }
  sessionStorage.setItem(KEY, key);
  try {
    await api('/v1/segments'); // any read-scoped call checks the key
    $('login-error').textContent = '';
    $('api-key').value = '';
    signedIn();
  } catch (err) {
    signOut(err.status === 401 ? 'That key was refused.' : err.status === 403 ? 'That key lacks the read scope.' : `Sign-in failed: ${err.message}`);
  }
});

$('search-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('q').value;
  if (!text.trim()) {
    $('status').textContent = 'Type an e-mail, phone, user id or profile id.';
    return;
  }
  showCustomer(toRef(text));
});

$('sign-out').addEventListener('click', () => signOut('Signed out.'));
$('timeline-more').addEventListener('click', moreEvents);

if (sessionStorage.getItem(KEY)) signedIn();
else $('api-key').focus();
