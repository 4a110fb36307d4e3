// The engagement counts against an oracle that counts the distinct events directly (fast-check: any arrival order,
// redeliveries), and the hour-of-week arithmetic on known instants.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { hourOfWeek } from './engagement.ts';
import { foldEvents } from './fold.ts';
import type { FoldInput } from './fold.ts';
import { streamArb } from './testing/arbitraries.ts';

/** Counts straight from the events, written from the rules in engagement.ts's header (no fragment, no join). */
function oracle(all: readonly FoldInput[]) {
  const seen = new Set<string>();
  const channels: Record<string, number> = {};
  const hours: Record<string, number> = {};
  for (const e of all) {
    if (seen.has(e.event.event_id)) continue;
    seen.add(e.event.event_id);
    let channel: string | undefined;
    if (e.topic === 'clickstream')
      channel = ['email_open', 'email_click'].includes(e.event.type) ? 'email' : e.event.type === 'consent_updated' ? undefined : 'web';
    else if (e.topic === 'purchases' && e.event.status === 'completed') channel = e.event.channel;
    if (channel === undefined) continue;
    const d = new Date(e.event.occurred_at);
    const how = String(((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours());
    channels[channel] = (channels[channel] ?? 0) + 1;
    hours[how] = (hours[how] ?? 0) + 1;
  }
  return Object.keys(channels).length === 0 ? undefined : { channels, hours };
}

describe('engagement counts against the oracle (fast-check)', () => {
  it('any arrival order with redeliveries counts each engaging event once, on its channel and hour of the week', () => {
    fc.assert(
      fc.property(streamArb(40), ([events, stream]) => {
        const want = oracle(events);
        assert.deepEqual(foldEvents(stream).engagement, want);
        assert.deepEqual(foldEvents(events).engagement, want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('hourOfWeek (UTC, Monday 00h = 0)', () => {
  it('names the hour of the ISO week, before 1970 too', () => {
    assert.equal(hourOfWeek(Date.UTC(2026, 10, 30, 0, 0)), 0); // Monday 30 Nov 2026
    assert.equal(hourOfWeek(Date.UTC(2026, 10, 30, 13, 59, 59, 999)), 13);
    assert.equal(hourOfWeek(Date.UTC(2026, 11, 6, 23, 30)), 167); // Sunday
    assert.equal(hourOfWeek(Date.UTC(2026, 11, 2, 9)), 2 * 24 + 9); // Wednesday 09h
    assert.equal(hourOfWeek(Date.UTC(1969, 11, 31, 5)), 2 * 24 + 5); // a Wednesday before the epoch
  });
});
