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
import {
  $,
  eventText,
  fill,
  h,
  renderConsent,
  renderDevices,
  renderIdentity,
  renderLifecycle,
  renderOrders,
  renderSegments,
  renderTickets,
  when,
} from './panels.js';

const KEY = 'profile-stream.support.api-key';

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

// ---- timeline paging -------------------------------------------------------------------------------------------

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
