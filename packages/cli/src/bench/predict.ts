/**
 * `bench predict`: N customers simulated from the CDNOW model (FHL 2005's BG/NBD and Gamma-Gamma, in days; times in
 * whole days as the warehouse gives them): the time to fit both models on them, the scoring rate of the model alone,
 * then `predict score`'s path on the real stack for M profiles (read from Redis, scored, folded, published on
 * profile-changes) next to a raw baseline of the same run: the same profiles' document GETs in pipelines of the same size.
 * Then `import purchases` of the Online Retail file against a raw produce of its rows (bench/import.ts).
 */
import { engagementPrior, fitModel, type History, scoreCustomer, simulateCustomers } from '@profile-stream/predict';
import { eventFragment, normaliseIdentifiers, ProfileStore } from '@profile-stream/profile';
import { Redis } from 'ioredis';
import type { CliContext } from '../context.ts';
import { publishScored, scoreProfiles } from '../predict/score.ts';
import { printTable } from '../table.ts';
import { setup, teardown } from './harness.ts';
import { benchImport } from './import.ts';

const DAY = 86_400_000;
/** FHL 2005 (weeks) in days: α × 7. Gamma-Gamma (FHL 2005b) in cents: γ × 100. */
const TRUTH = { r: 0.243, alpha: 4.414 * 7, a: 0.793, b: 2.426 };
const SPEND = { p: 6.25, q: 3.74, gamma: 1544 };

export interface PredictBenchOptions {
  customers: number;
  profiles: number;
}

function histories(n: number): History[] {
  return simulateCustomers(TRUTH, { customers: n, minT: 0, maxT: 546, spend: SPEND, seed: 17 }).map((c) => {
    const T = Math.floor(c.T);
    const tx = Math.min(T, Math.floor(c.tx));
    return {
      x: c.x,
      tx_days: c.x === 0 ? 0 : tx,
      T_days: T,
      mean_order_minor: c.x > 0 && c.mx > 0 ? Math.round(c.mx) : null,
      currency: 'USD',
      orders: c.x + 1,
    };
  });
}

/** Folds each simulated history into a profile as its orders (first at now − T, last at first + t_x, evenly between). */
async function populate(store: ProfileStore, hs: History[], now: number): Promise<void> {
  const normalise = { defaultRegion: 'GB', blocklist: new Set<string>() };
  for (let i = 0; i < hs.length; i += 500) {
    await Promise.all(
      hs.slice(i, i + 500).map(async (h, j) => {
        const first = now - Math.ceil(h.T_days) * DAY;
        const events = Array.from({ length: h.x + 1 }, (_, k) => {
          const at = first + (h.x === 0 ? 0 : Math.round((k * h.tx_days) / h.x) * DAY);
          const e = {
            event_id: `bench-${i + j}-${k}`,
            occurred_at: at,
            anonymous_id: null,
            user_id: `bench:${i + j}`,
            email: null,
            phone: null,
            order_id: `o${k}`,
            status: 'completed' as const,
            channel: 'web' as const,
            currency: 'USD',
            total_minor: h.mean_order_minor ?? 1500,
            items: [],
            account: null,
          };
          return { event_id: e.event_id, occurred_at: at, fragment: eventFragment('purchases', e, normaliseIdentifiers(e, normalise)) };
        });
        await store.fold(`pbench${i + j}`, events);
      }),
    );
  }
}

export async function benchPredict(ctx: CliContext, o: PredictBenchOptions): Promise<void> {
  const hs = histories(o.customers);
  const now = Date.now();
  const fit = fitModel(hs, { version: 1, now, clv: { horizon_days: 365, annual_discount_rate: 0.1 } });
  // An engagement prior over every hour of the week, so scoring also picks each profile's best channel and hour.
  fit.model.engagement = engagementPrior({ web: 7, email: 2, app: 1 }, Object.fromEntries(Array.from({ length: 168 }, (_, h) => [String(h), 1 + (h % 24)])));
  const p = fit.model.bgnbd.params;
  const gg = fit.model.gamma_gamma;
  process.stdout.write(
    `fit on ${o.customers} simulated customers: ${fit.ms} ms (BG/NBD + Gamma-Gamma)\n` +
      `  BG/NBD r=${p.r.toFixed(3)} α=${p.alpha.toFixed(2)} a=${p.a.toFixed(3)} b=${p.b.toFixed(3)} (true ${TRUTH.r}, ${TRUTH.alpha.toFixed(2)}, ${TRUTH.a}, ${TRUTH.b})\n` +
      `  Gamma-Gamma ${gg ? `p=${gg.params.p.toFixed(2)} q=${gg.params.q.toFixed(2)} γ=${gg.params.gamma.toFixed(0)} on ${gg.customers} repeat buyers` : 'not fitted'} (true ${SPEND.p}, ${SPEND.q}, ${SPEND.gamma})\n`,
  );

  const at = new Date(now);
  const t0 = performance.now();
  for (const h of hs) scoreCustomer(fit.model, h, at);
  const modelMs = performance.now() - t0;

  const b = await setup(ctx, 'predict');
  const redis = new Redis(ctx.conn.redis.url);
  try {
    const prefix = b.env.REDIS_PREFIX as string;
    const store = new ProfileStore({ redis, prefix, windowMs: 365 * DAY });
    const sample = hs.slice(0, o.profiles);
    await populate(store, sample, now);
    const scored = await scoreProfiles({
      store,
      model: fit.model,
      now,
      publish: publishScored(b.clients),
    });
    // Baseline: the same profiles' documents read in pipelines of the scorer's chunk size (200), nothing else.
    const ids = await store.profileIds();
    const r0 = performance.now();
    for (let i = 0; i < ids.length; i += 200) {
      const pipe = redis.pipeline();
      for (const id of ids.slice(i, i + 200)) pipe.get(store.keys.profile(id).doc);
      await pipe.exec();
    }
    const rawMs = performance.now() - r0;
    printTable([
      { path: 'model only (scoreCustomer)', profiles: hs.length, ms: Math.round(modelMs), 'profiles/s': Math.round(hs.length / (modelMs / 1000)) },
      {
        path: 'predict score (Redis read + fold + publish)',
        profiles: scored.scored,
        ms: scored.ms,
        'profiles/s': Math.round(scored.scored / (scored.ms / 1000)),
      },
      { path: 'baseline: document GETs, pipelines of 200', profiles: ids.length, ms: Math.round(rawMs), 'profiles/s': Math.round(ids.length / (rawMs / 1000)) },
    ]);
    process.stdout.write('\nimport of the Online Retail file vs a raw produce of its rows (same run, same broker):\n');
    printTable(await benchImport(b));
  } finally {
    redis.disconnect();
    await teardown(b);
  }
}
