// Support tickets (opened → updated → resolved/closed, sometimes reopened, CSAT on resolve/close), consent
// changes and e-mail campaign engagement.
import { SHOP_URL, TICKET_TOPICS } from './catalog.ts';
import { DAY, HOUR, MINUTE, ids, type Customer, type Device, type GeneratorContext } from './customer.ts';
import { emailVariant, phoneVariant } from './identity.ts';
import type { ConsentPurpose, Identifiers, TicketChannel, TicketPriority, TicketStatus } from './types.ts';

function ticketIdentifiers(ctx: GeneratorContext, c: Customer, channel: TicketChannel): Identifiers {
  const r = c.rng;
  const email = emailVariant(c.id.email, r);
  const userId = c.signedUp ? c.id.userId : null;
  switch (channel) {
    case 'phone':
    case 'in_store':
      return ids({ phone: phoneVariant(c.id, ctx.defaultRegion, r), email: r.chance(0.3) ? email : null });
    case 'chat':
    case 'web_form':
      return ids({ user_id: userId, email: userId && r.chance(0.5) ? null : email });
    default:
      return ids({ email, user_id: r.chance(0.2) ? userId : null });
  }
}

/** Higher satisfaction for quick, first-time fixes; low after a reopen. */
function csat(c: Customer, reopened: boolean, hours: number): number {
  const base = reopened ? 2.2 : hours < 24 ? 4.4 : hours < 96 ? 3.8 : 3;
  return Math.max(1, Math.min(5, Math.round(base + (c.rng.next() - 0.5) * 2.4)));
}

/** Schedules a whole ticket lifecycle starting at `at`. */
export function openTicket(ctx: GeneratorContext, c: Customer, at: number, category?: string): void {
  const r = c.rng;
  c.ticketCount += 1;
  const topic = category ? TICKET_TOPICS.find(([name]) => name === category) : r.pick(TICKET_TOPICS);
  const [cat, subjects] = topic ?? r.pick(TICKET_TOPICS);
  const channel = r.weighted<TicketChannel>([
    ['email', 30],
    ['chat', 25],
    ['phone', 20],
    ['web_form', 12],
    ['social', 8],
    ['in_store', 5],
  ]);
  const priority = r.weighted<TicketPriority>([
    ['low', 20],
    ['normal', 55],
    ['high', 20],
    ['urgent', 5],
  ]);
  const base = {
    ...ticketIdentifiers(ctx, c, channel),
    ticket_id: `tkt_${c.id.index.toString(36)}_${c.ticketCount.toString(36).padStart(2, '0')}`,
    channel,
    priority,
    category: r.chance(0.95) ? cat : null,
  };
  const subject = r.pick(subjects);
  const step = (when: number, status: TicketStatus, satisfaction: number | null = null): void => {
    ctx.emit(when, 'support-tickets', c, {
      ...base,
      occurred_at: when,
      status,
      subject: status === 'opened' || r.chance(0.3) ? subject : null,
      satisfaction,
    });
  };
  step(at, 'opened');
  let t = at;
  for (
    let u = r.weighted<number>([
      [0, 30],
      [1, 40],
      [2, 20],
      [3, 10],
    ]);
    u > 0;
    u--
  ) {
    t += MINUTE * 20 + Math.floor(r.exp(10 * HOUR));
    step(t, 'updated');
  }
  if (r.chance(0.08)) {
    c.ticketOpenUntil = Infinity; // never resolved inside the window: an open ticket
    return;
  }
  t += HOUR + Math.floor(r.exp(30 * HOUR));
  const hours = (t - at) / HOUR;
  const rated = r.chance(0.55);
  step(t, 'resolved', rated ? csat(c, false, hours) : null);
  let reopened = false;
  if (r.chance(0.12)) {
    reopened = true;
    t += HOUR * 2 + Math.floor(r.exp(DAY));
    step(t, 'reopened');
    t += HOUR + Math.floor(r.exp(12 * HOUR));
    step(t, 'updated');
    t += HOUR + Math.floor(r.exp(DAY));
    step(t, 'resolved', r.chance(0.6) ? csat(c, true, hours) : null);
  }
  t += 2 * DAY + Math.floor(r.next() * 5 * DAY);
  step(t, 'closed', !rated && !reopened && r.chance(0.3) ? csat(c, false, hours) : null);
  c.ticketOpenUntil = Math.max(c.ticketOpenUntil, t);
}

/** A consent_updated click event for one purpose. */
export function emitConsent(ctx: GeneratorContext, c: Customer, at: number, purpose: ConsentPurpose, granted: boolean, device: Device | null): void {
  c.consent[purpose] = granted;
  ctx.emit(at, 'clickstream', c, {
    ...ids({
      anonymous_id: device?.anonymousId ?? null,
      user_id: c.signedUp ? c.id.userId : null,
      // preference centre links from e-mails identify by e-mail only
      email: device === null || !c.signedUp ? emailVariant(c.id.email, c.rng) : null,
    }),
    occurred_at: at,
    type: 'consent_updated',
    page: device ? { url: `${SHOP_URL}/account/preferences`, referrer: null, title: 'Preferences' } : null,
    utm: null,
    device: device ? deviceOf(device) : null,
    country: c.id.region.country,
    locale: c.id.region.locale,
    product: null,
    search_query: null,
    consent: { purpose, granted },
  });
}

export function deviceOf(d: Device): { type: Device['profile']['type']; os: string | null; browser: string | null } {
  return { type: d.profile.type, os: d.profile.os, browser: d.profile.browser };
}

/** Campaign e-mail: opened, maybe clicked (returns the click time and campaign so a web session can follow). */
export function emailEngagement(ctx: GeneratorContext, c: Customer, at: number): { at: number; campaign: string } | null {
  const r = c.rng;
  const campaign = r.pick(['weekly_newsletter', 'new_in', 'win_back', 'cart_reminder', 'vip_offer']);
  const who = ids({ email: emailVariant(c.id.email, r), user_id: c.signedUp && r.chance(0.3) ? c.id.userId : null });
  const base = {
    ...who,
    page: null,
    utm: { source: 'newsletter', medium: 'email', campaign },
    device: null,
    country: c.id.region.country,
    locale: c.id.region.locale,
    product: null,
    search_query: null,
    consent: null,
  };
  ctx.emit(at, 'clickstream', c, { ...base, occurred_at: at, type: 'email_open' });
  if (!r.chance(0.35)) {
    if (r.chance(0.02)) emitConsent(ctx, c, at + MINUTE, 'email', false, null); // unsubscribe link
    return null;
  }
  const clickAt = at + Math.floor(r.exp(5 * MINUTE)) + 1000;
  ctx.emit(clickAt, 'clickstream', c, {
    ...base,
    occurred_at: clickAt,
    type: 'email_click',
    page: { url: `${SHOP_URL}/?utm_source=newsletter&utm_medium=email&utm_campaign=${campaign}`, referrer: null, title: null },
  });
  return { at: clickAt, campaign };
}
