/**
 * Engagement counts: how often a customer engaged on each channel and in each hour of the week, the evidence
 * `profile-stream predict score` shrinks toward the population's rates (packages/predict/src/engagement.ts) to name the
 * best channel and hour. Sums in the fold, so order-independent, and idempotent because the store applies each
 * event_id once (rules.ts). The warehouse's population query (packages/cli/src/predict/warehouse.ts) maps events to
 * channels and hours the same way.
 *
 * Which events engage: email_open / email_click on `email`; any other clickstream event but consent_updated (a
 * preference, not engagement) on `web`; a completed purchase on its sales channel (web, app, store, phone,
 * marketplace). Tickets and loyalty events are not engagement. SMS and push carry consent only, no engagement events,
 * so they get no counts (and never win on evidence alone: the population's rate for them is 0).
 */
import type { ProfileDoc } from './doc.ts';
import type { InputEvent } from './validate.ts';

const WEEK_MS = 7 * 86_400_000;
const HOUR_MS = 3_600_000;
/** 1970-01-05T00:00Z, a Monday: hours of the week count from there. */
const MONDAY = 4 * 86_400_000;

/** Hour of the week in UTC: 0 = Monday 00:00–00:59, 167 = Sunday 23:00–23:59 (ISO weeks start on Monday). */
export function hourOfWeek(t: number): number {
  const inWeek = (((t - MONDAY) % WEEK_MS) + WEEK_MS) % WEEK_MS;
  return Math.floor(inWeek / HOUR_MS);
}

/** The channel an event engages on, or undefined when it is not engagement. */
export function engagementChannel(input: InputEvent): string | undefined {
  if (input.topic === 'clickstream') {
    const type = input.event.type;
    if (type === 'email_open' || type === 'email_click') return 'email';
    return type === 'consent_updated' ? undefined : 'web';
  }
  if (input.topic === 'purchases') return input.event.status === 'completed' ? input.event.channel : undefined;
  return undefined;
}

/** What one event adds to the engagement section (one count on its channel, one in its hour of the week). */
export function engagementFragment(input: InputEvent): ProfileDoc['engagement'] {
  const channel = engagementChannel(input);
  if (channel === undefined) return undefined;
  return { channels: { [channel]: 1 }, hours: { [String(hourOfWeek(input.event.occurred_at))]: 1 } };
}
