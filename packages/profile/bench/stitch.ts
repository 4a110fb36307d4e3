// Micro-benchmark of the stitcher's per-event CPU in this package: normaliseIdentifiers (and normalisePhone alone),
// eventFragment and profileView, on the generator's realistic events. Not a test: it prints µs per call and a digest
// of every output, so two runs (before and after a change) can be compared for speed and for identical results.
//
//   .tools/node/node_modules/node/bin/node packages/profile/bench/stitch.ts [customers=200] [rounds=7]
//
// profileView runs on each customer's profile as it stands after each of its events (what the stitcher publishes).
// Times are the process's CPU time (user + system, GC threads included), steadier than wall time on a shared machine.
import { createHash } from 'node:crypto';
import { generate } from '@profile-stream/generator';
import { eventFragment } from '../src/fold.ts';
import { join } from '../src/join.ts';
import { normaliseIdentifiers, normalisePhone } from '../src/normalise.ts';
import type { FoldInput } from '../src/fold.ts';
import type { ProfileDoc } from '../src/doc.ts';
import { profileView } from '../src/view.ts';

const customers = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 7);
const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };

const inputs: FoldInput[] = [];
const docs: [string, ProfileDoc][] = [];
const byKey = new Map<string, ProfileDoc>();
for (const r of generate({ seed: 12, customers, start: Date.UTC(2024, 0, 1), days: 365, malformedRate: 0 })) {
  if ('malformed' in r || r.key === null) continue;
  const e = { topic: r.topic, event: r.value, ids: normaliseIdentifiers(r.value, GB) } as FoldInput;
  inputs.push(e);
  const doc = join(byKey.get(r.key) ?? {}, eventFragment(e.topic, e.event, e.ids));
  byKey.set(r.key, doc);
  docs.push([r.key, doc]);
}
const phones = inputs.flatMap((e) => (e.event.phone === null ? [] : [e.event.phone.trim()]));
process.stdout.write(`${inputs.length} events of ${byKey.size} profiles, ${phones.length} phones (${new Set(phones).size} distinct)\n`);

/** The last result of a timed pass (read at the end, so that no call can be optimised away). */
let sink: unknown;

/**
 * Best of `rounds` passes over every item, in CPU µs per call (and the first pass alone), then a digest of one more,
 * untimed pass. Timed passes keep no outputs (as the stitcher, which drops them after each batch), so that they are
 * not charged for the promotion of thousands of retained results to the old generation.
 */
function time<T>(name: string, items: readonly T[], f: (x: T) => unknown): void {
  let best = Number.POSITIVE_INFINITY;
  let first = 0;
  for (let round = 0; round < rounds; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < items.length; i++) sink = f(items[i]!);
    const used = process.cpuUsage(t0);
    const ms = (used.user + used.system) / 1000;
    if (round === 0) first = ms;
    best = Math.min(best, ms);
  }
  const digest = createHash('sha256');
  for (const x of items) digest.update(JSON.stringify(f(x)) ?? 'undefined');
  const us = (ms: number) => ((ms * 1000) / items.length).toFixed(2).padStart(8);
  process.stdout.write(`${name.padEnd(22)} ${us(best)} CPU µs/call (first pass ${us(first)})  digest ${digest.digest('hex').slice(0, 16)}\n`);
}

time('normalisePhone', phones, (p) => normalisePhone(p, 'GB'));
time('normaliseIdentifiers', inputs, (e) => normaliseIdentifiers(e.event, GB));
time('eventFragment', inputs, (e) => eventFragment(e.topic, e.event, e.ids));
time('profileView', docs, ([key, doc]) => profileView(doc, { profile_id: key, merged_ids: [] }));
process.stdout.write(`(last result: ${typeof sink})\n`);
