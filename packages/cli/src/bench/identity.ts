/**
 * `bench identity --rounds N`: the identity convergence soak. Each round: thousands of customers whose identifiers
 * link only across topics (generator's identitySoak: shuffled, 5 % redelivered), produced while the three stitchers
 * run as their own processes with chunks of 25, so merges race across processes; then what Redis holds is compared
 * with the oracle (its partition into customers and its fold of each) and the store's invariants are checked.
 * A round fails on any difference; the command exits 1 when any round failed. A correctness soak, not a speed test:
 * the round time is printed for information only.
 */
import { Redis } from 'ioredis';
import { errorMessage, eventKey, type TopicId } from '@profile-stream/contracts';
import { identitySoak } from '@profile-stream/generator';
import { cleanScratch } from '@profile-stream/infra';
import { ProfileStore } from '@profile-stream/profile';
import { checkConvergence, oracleProfiles } from '@profile-stream/profile/testing';
import type { CliContext } from '../context.ts';
import { Sender } from '../sender.ts';
import { printTable } from '../table.ts';
import { caughtUp, setup, startService, teardown, waitForGroup, type Bench } from './harness.ts';

const INPUTS = ['clickstream', 'purchases', 'support-tickets'] as const;
const DAY = 86_400_000;

export interface IdentityBenchOptions {
  rounds: number;
  customers: number;
  seed: number;
}

interface RoundResult {
  events: number;
  redelivered: number;
  customers: number;
  merges: number;
  seconds: number;
  phases: string;
  errors: string[];
}

/** Everything that differs from the oracle or breaks an invariant (empty: the round converged). */
async function roundErrors(
  b: Bench,
  redis: Redis,
  records: Parameters<typeof oracleProfiles>[0],
): Promise<{ errors: string[]; customers: number; merges: number }> {
  const errors: string[] = [];
  const admin = b.kafka.admin();
  await admin.connect();
  try {
    for (const t of INPUTS) {
      const dead = (await admin.fetchTopicOffsets(b.topics[t].dlq!)).reduce((s, p) => s + Number(p.high), 0);
      if (dead) errors.push(`${dead} dead letters in ${b.topics[t].dlq}`);
    }
  } finally {
    await admin.disconnect();
  }
  const store = new ProfileStore({ redis, prefix: `${b.prefix}ps:`, windowMs: 3650 * DAY });
  const oracle = oracleProfiles(records);
  const r = await checkConvergence(
    redis,
    store,
    oracle.map((p) => ({ identifiers: p.keys, doc: p.doc })),
  );
  return { errors: [...errors, ...r.errors], customers: oracle.length, merges: r.merges };
}

async function round(ctx: CliContext, o: IdentityBenchOptions, n: number): Promise<RoundResult> {
  const t0 = performance.now();
  const b = await setup(ctx, 'identity', { STITCHER_CHUNK_SIZE: '25', PROFILE_DEDUP_WINDOW_DAYS: '3650' });
  const redis = new Redis(b.redisUrl);
  try {
    const soak = identitySoak({ seed: o.seed + n, customers: o.customers, now: Date.now() - DAY });
    for (const t of INPUTS) startService(b, t, { STITCHER_GROUP_ID: `${b.prefix}${t}` });
    for (const t of INPUTS) await waitForGroup(b.kafka, `${b.prefix}${t}`);
    const t1 = performance.now();
    const sender = new Sender(await b.clients.producer(), { batchSize: 200, inFlight: 8 });
    for (const r of soak.records) {
      const topic = b.topics[r.topic].topic;
      await sender.add(topic, { key: eventKey(r.topic as TopicId, r.value as never), value: await b.clients.registry.encode(topic, r.value) });
    }
    await sender.flush();
    for (const t of INPUTS) await caughtUp(b.kafka, `${b.prefix}${t}`, b.topics[t].topic, { services: b.children });
    const t2 = performance.now();
    const r = await roundErrors(b, redis, soak.records);
    const t3 = performance.now();
    const s = (ms: number) => (ms / 1000).toFixed(1);
    return {
      events: soak.events,
      redelivered: soak.redelivered,
      ...r,
      seconds: (t3 - t0) / 1000,
      phases: `start ${s(t1 - t0)} s, produce + stitch ${s(t2 - t1)} s, check ${s(t3 - t2)} s`,
    };
  } finally {
    redis.disconnect();
    // The round's verdict is made; a clean-up that fails under load (a topic deletion timing out) is reported, not
    // counted against it: `profile-stream stack clean` removes what is left.
    await teardown(b).catch((err: unknown) => process.stderr.write(`round ${n}: stopping the stitchers or deleting the topics failed: ${errorMessage(err)}\n`));
    await cleanScratch(ctx.conn, ctx.log, [b.prefix]).catch((err: unknown) =>
      process.stderr.write(`round ${n}: removing the round's data failed: ${errorMessage(err)}\n`),
    );
  }
}

export async function benchIdentity(ctx: CliContext, o: IdentityBenchOptions): Promise<boolean> {
  const rows = [];
  let failed = 0;
  for (let n = 1; n <= o.rounds; n++) {
    const r = await round(ctx, o, n);
    if (r.errors.length) failed++;
    process.stderr.write(
      `round ${n}/${o.rounds}: ${r.customers} customers, ${r.events} events + ${r.redelivered} redelivered, ${r.merges} merges, ${r.seconds.toFixed(1)} s (${r.phases}): ${r.errors.length ? `FAILED (${r.errors.length} differences)` : 'converged'}\n`,
    );
    for (const e of r.errors.slice(0, 10)) process.stderr.write(`  ${e}\n`);
    rows.push({
      round: n,
      customers: r.customers,
      events: r.events,
      redelivered: r.redelivered,
      merges: r.merges,
      seconds: r.seconds.toFixed(1),
      result: r.errors.length ? `${r.errors.length} differences` : 'converged',
    });
  }
  printTable(rows);
  process.stdout.write(
    `${o.rounds - failed}/${o.rounds} rounds converged (three stitcher processes, chunks of 25, ${o.customers} customers a round, seed ${o.seed})\n`,
  );
  return failed === 0;
}
