// Micro-benchmark of the segmenter's per-change CPU: decide() (every shipped definition over one profile view, with
// traits and the consent check) and its parts, on realistic views, before (src/testing/oracle.ts, the code as it was)
// and after (the code now), and whether their outputs are identical. Not a test.
//
//   .tools/node/node_modules/node/bin/node packages/segments/bench/evaluate.ts [customers=600] [rounds=9]
//
// The views: the generator's customers over a year, each purchase's profile as the stitcher would publish it
// (fold of the customer's events so far, then profileView, through JSON as profile_json is), evaluated as the
// segmenter does on that change (trigger: the event; now: 40 ms later) and on a scheduled tick 30 days on.
import { fileURLToPath } from 'node:url';
import { generate } from '@profile-stream/generator';
import { eventFragment, join, normaliseIdentifiers, profileView, type FoldInput, type JsonValue, type ProfileDoc } from '@profile-stream/profile';
import { decide, type Trigger } from '../../segmenter/src/decide.ts';
import { evaluateAll, factsOf, loadDefinitions, traitsOf } from '../src/index.ts';
import * as oracle from '../src/testing/oracle.ts';

const customers = Number(process.argv[2] ?? 600);
const rounds = Number(process.argv[3] ?? 9);
const DAY = 86_400_000;
const GB = { defaultRegion: 'GB', blocklist: new Set<string>() };

const defs = await loadDefinitions(fileURLToPath(new URL('../../../segments', import.meta.url)));

interface Sample {
  view: JsonValue;
  at: number;
}
const docs = new Map<string, ProfileDoc>();
const samples: Sample[] = [];
for (const r of generate({ seed: 12, customers, start: Date.UTC(2024, 0, 1), days: 365, malformedRate: 0 })) {
  if ('malformed' in r || r.key === null) continue;
  const e = { topic: r.topic, event: r.value, ids: normaliseIdentifiers(r.value, GB) } as FoldInput;
  const doc = join(docs.get(r.key) ?? {}, eventFragment(e.topic, e.event, e.ids));
  docs.set(r.key, doc);
  if (r.topic === 'purchases') {
    samples.push({ view: JSON.parse(JSON.stringify(profileView(doc, { profile_id: r.key, merged_ids: [] }))), at: r.value.occurred_at });
  }
}
const purchases = samples.map((s) => (s.view as { transactions: { purchases: unknown[] } }).transactions.purchases.length);
process.stdout.write(
  `${samples.length} views (purchases per view: mean ${(purchases.reduce((a, b) => a + b, 0) / purchases.length).toFixed(1)}, max ${Math.max(...purchases)}), ${defs.length} definitions\n`,
);

const onEvent = (s: Sample): [number, Trigger] => [s.at + 40, { kind: 'event', at: s.at }];
const onTick = (s: Sample): [number, Trigger] => [s.at + 30 * DAY, { kind: 'tick', at: s.at + 30 * DAY }];
// CPU time of this process, not wall time: the machine is shared, and a pass preempted by another process would
// count time it did not use.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const json = (o: unknown) => JSON.stringify(o, (_k, v) => (v instanceof Map ? [...v] : v));

/**
 * Before (the oracle: today's code as it was) and after (the code now), passes over every sample taken in turn so
 * that both see the same machine load; the best pass of each, in CPU µs per call, and whether every output was equal.
 */
function time(name: string, before: (s: Sample) => unknown, after: (s: Sample) => unknown): void {
  const best = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  const outs: unknown[][] = [[], []];
  for (let round = 0; round < rounds; round++) {
    [before, after].forEach((f, k) => {
      const out: unknown[] = [];
      const t0 = cpuMs();
      for (const s of samples) out.push(f(s));
      best[k] = Math.min(best[k]!, cpuMs() - t0);
      outs[k] = out;
    });
  }
  const same = outs[0]!.every((o, i) => json(o) === json(outs[1]![i]));
  const us = (ms: number) => ((ms * 1000) / samples.length).toFixed(2).padStart(7);
  process.stdout.write(
    `${name.padEnd(34)} ${us(best[0]!)} → ${us(best[1]!)} µs/call  (${(best[0]! / best[1]!).toFixed(2)}×)  ${same ? 'identical' : 'OUTPUTS DIFFER'}\n`,
  );
}

time(
  'decide (event trigger)',
  (s) => oracle.decide(defs, s.view, ...onEvent(s)),
  (s) => decide(defs, s.view, ...onEvent(s)),
);
time(
  'decide (tick 30 d on)',
  (s) => oracle.decide(defs, s.view, ...onTick(s)),
  (s) => decide(defs, s.view, ...onTick(s)),
);
time(
  'evaluateAll (now, since = event)',
  (s) => oracle.evaluateAll(defs, s.view, s.at + 40, s.at),
  (s) => evaluateAll(defs, s.view, s.at + 40, s.at),
);
time(
  'evaluateAll (now only)',
  (s) => oracle.evaluateAll(defs, s.view, s.at + 40),
  (s) => evaluateAll(defs, s.view, s.at + 40),
);
time(
  'factsOf (purchases, views, revenue)',
  (s) => oracle.factsOf(s.view),
  (s) => factsOf(s.view),
);
time(
  'traitsOf (all defs, facts given)',
  (s) => {
    const facts = oracle.factsOf(s.view);
    return defs.map((d) => oracle.traitsOf(d, facts));
  },
  (s) => {
    const facts = factsOf(s.view);
    return defs.map((d) => traitsOf(d, facts));
  },
);
