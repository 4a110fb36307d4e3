/*
 * The support page's panels (imported by app.js, served as /support/panels.js): the DOM helpers they draw with and one
 * renderer per section of the page, each filling its section's body from the API's answers. No fetching and no state
 * here: app.js makes the calls, keeps the session and the timeline's paging, and calls these.
 */
export const $ = (id) => document.getElementById(id);

/** An element: h('td', { class: 'x' }, 'text', child, …); strings become text nodes (never parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
  for (const c of children.flat(Number.POSITIVE_INFINITY)) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const DAY = 86_400_000;
export function when(iso) {
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

export const fill = (id, ...nodes) =>
  $(id).replaceChildren(...nodes.flat(Number.POSITIVE_INFINITY).filter((n) => n !== null && n !== undefined && n !== false));

// ---- panels ----------------------------------------------------------------------------------------------------

export function renderIdentity(found) {
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

export function renderConsent(p) {
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

export function renderSegments(segs) {
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

const LIFECYCLE = ['first-time-buyer', 'occasional', 'loyal', 'at-risk', 'dormant'];

export function renderLifecycle(p, segs) {
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

export function renderOrders(p) {
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

export function renderTickets(p, ticketEvents) {
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

export function renderDevices(p) {
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
export function eventText(e) {
  const d = e.details;
  if (e.type === 'purchase') return `Order ${d.order_id} ${d.status} · ${money(d.total_minor, d.currency)} · ${d.channel}`;
  if (e.type === 'support_ticket') return `Ticket ${d.ticket_id} ${d.status} · ${d.priority} · ${d.channel}${d.subject ? ` · ${d.subject}` : ''}`;
  const what = [d.page_title ?? d.page_url, d.product_sku && `product ${d.product_sku}`, d.search_query && `“${d.search_query}”`];
  if (d.consent_purpose) what.push(`${d.consent_purpose} ${d.consent_granted ? 'granted' : 'withdrawn'}`);
  return [e.type.replace(/_/g, ' '), ...what.filter(Boolean), d.device_type !== 'unknown' && d.device_type].filter(Boolean).join(' · ');
}
