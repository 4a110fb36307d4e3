/**
 * `predict fit`: BG/NBD + Gamma-Gamma fitted on every customer's orders in the warehouse (one query), stored as the
 * next model version in Redis; a population it cannot fit fails with `model_fit_failed` and the current model stays.
 * `predict score`: every live profile scored with the current model (its `predictions` section), each change published
 * on profile-changes (cause `predict`) so segments re-evaluate. `predict report`: the current model and a holdout check
 * (refit on the orders before the last `--holdout-days`, expected against actual purchase days by frequency).
 */
import type { Command } from 'commander';
import { parseSettings, ProfileStreamError } from '@profile-stream/consumer-kit';
import { engagementPrior, fitModel, holdoutCheck, historyOf, type History, PredictError, type PredictModel } from '@profile-stream/predict';
import { ProfileStore } from '@profile-stream/profile';
import { STITCHER_SETTINGS } from '@profile-stream/stitcher';
import { loadWarehouseConfig, openAnalystClient } from '@profile-stream/warehouse';
import { parseAsOf } from '../as-of.ts';
import { openClients, withRedis } from '../clients.ts';
import { cliContext } from '../context.ts';
import { ModelStore } from '../predict/models.ts';
import { publishScored, scoreProfiles } from '../predict/score.ts';
import { customerOrders, engagementCounts } from '../predict/warehouse.ts';
import { progressBar } from '../progress.ts';
import { printTable } from '../table.ts';

function number(name: string, text: string, min: number, max = Number.POSITIVE_INFINITY): number {
  const v = Number(text);
  if (!(Number.isFinite(v) && v >= min && v <= max))
    throw new ProfileStreamError('invalid_options', `${name}: expected a number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return v;
}

async function warehouseOrders(asOf: number) {
  const cfg = loadWarehouseConfig(cliContext('predict').env);
  const a = await openAnalystClient({ url: cfg.conn.clickhouse.url, database: cfg.database, opsPort: cfg.opsPort, dataDir: cfg.dataDir });
  try {
    const orders = await customerOrders(a.client, cfg.database, asOf);
    const engagement = await engagementCounts(a.client, cfg.database, asOf);
    return { orders, engagement, location: a.location };
  } finally {
    await a.close();
  }
}

function describeModel(m: PredictModel): string {
  const p = m.bgnbd.params;
  const gg = m.gamma_gamma;
  const spend =
    gg === null
      ? 'no Gamma-Gamma part (no order values or CLV)'
      : `Gamma-Gamma p=${gg.params.p.toFixed(4)} q=${gg.params.q.toFixed(4)} γ=${gg.params.gamma.toFixed(2)} on ${gg.customers} repeat buyers in ${gg.currency} (LL ${gg.log_likelihood.toFixed(2)})`;
  return [
    `model version ${m.version}, fitted ${m.fitted_at}, time unit ${m.unit_days} d`,
    `BG/NBD r=${p.r.toFixed(4)} α=${p.alpha.toFixed(4)} a=${p.a.toFixed(4)} b=${p.b.toFixed(4)} on ${m.bgnbd.customers} customers (LL ${m.bgnbd.log_likelihood.toFixed(2)})`,
    spend,
    `CLV over ${m.clv.horizon_days} d at ${(m.clv.annual_discount_rate * 100).toFixed(1)} %/year`,
    m.engagement === undefined
      ? 'no engagement prior (best channel and hour not scored)'
      : `engagement prior on ${m.engagement.events} events (m=${m.engagement.prior_strength}): ${Object.entries(m.engagement.channels)
          .sort((a, b) => b[1] - a[1])
          .map(([c, p]) => `${c} ${(p * 100).toFixed(1)} %`)
          .join(', ')}`,
  ].join('\n');
}

function withModels<T>(fn: (models: ModelStore) => Promise<T>): Promise<T> {
  const ctx = cliContext('predict');
  return withRedis(ctx.conn.redis.url, (redis) => fn(new ModelStore(redis, ctx.redisPrefix)));
}

export function registerPredict(program: Command): void {
  const predict = program.command('predict').description('BG/NBD + Gamma-Gamma predictions: P(alive), expected purchases, order value, CLV');

  predict
    .command('fit')
    .description("fit the models on the warehouse's orders and store them as the next version (an unfit population keeps the current one)")
    .option('--currency <code>', 'the currency of order values and CLV (default: that of most repeat buyers)')
    .option('--min-customers <n>', 'refuse to fit fewer customers', '20')
    .option('--horizon-days <n>', 'CLV horizon', '365')
    .option('--discount-rate <r>', 'CLV yearly discount rate (0.1 = 10 %)', '0.1')
    .option('--as-of <time>', 'fit on the orders up to this instant (ISO-8601 or epoch ms)', 'now')
    .option('--json', 'the model as JSON')
    .action(async (opts: { currency?: string; minCustomers: string; horizonDays: string; discountRate: string; asOf: string; json?: boolean }) => {
      const clv = {
        horizon_days: number('--horizon-days', opts.horizonDays, 1, 36_500),
        annual_discount_rate: number('--discount-rate', opts.discountRate, 0, 10),
      };
      const minCustomers = number('--min-customers', opts.minCustomers, 1);
      const now = parseAsOf(opts.asOf);
      const { orders, engagement, location } = await warehouseOrders(now);
      const histories = [...orders.values()].map((o) => historyOf(o, now)).filter((h): h is History => h !== null);
      await withModels(async (models) => {
        let fitted: ReturnType<typeof fitModel>;
        try {
          // Numbered when stored (ModelStore.store): 0 until then.
          fitted = fitModel(histories, { version: 0, now, clv, currency: opts.currency?.toUpperCase(), minCustomers });
        } catch (err) {
          if (!(err instanceof PredictError) || err.code !== 'model_fit_failed') throw err;
          const current = await models.current();
          const kept = current === null ? 'no model exists yet' : `model version ${current.version} stays current`;
          throw new PredictError('model_fit_failed', `${err.message}; ${kept}`, { cause: err });
        }
        fitted.model = await models.store({ ...fitted.model, engagement: engagementPrior(engagement.channels, engagement.hours) });
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ ...fitted.model, gamma_gamma_error: fitted.gammaGammaError, ms: fitted.ms, warehouse: location }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(`${describeModel(fitted.model)}\n`);
        if (fitted.gammaGammaError) process.stdout.write(`Gamma-Gamma not fitted: ${fitted.gammaGammaError}\n`);
        process.stdout.write(`fitted in ${fitted.ms} ms from ${histories.length} customers (${location})\n`);
      });
    });

  predict
    .command('score')
    .description("write every live profile's predictions with the current model and publish the changes (segments re-evaluate)")
    .option('--as-of <time>', "score as at this instant, which is also the cell's time (a later scoring wins)", 'now')
    .option('--json', 'the summary as JSON')
    .action(async (opts: { asOf: string; json?: boolean }) => {
      const ctx = cliContext('predict');
      const windowMs =
        parseSettings({ PROFILE_DEDUP_WINDOW_DAYS: STITCHER_SETTINGS.PROFILE_DEDUP_WINDOW_DAYS }, ctx.env).PROFILE_DEDUP_WINDOW_DAYS * 86_400_000;
      const clients = openClients(ctx);
      try {
        await withRedis(ctx.conn.redis.url, async (redis) => {
          const model = await new ModelStore(redis, ctx.redisPrefix).current();
          if (model === null) throw new ProfileStreamError('invalid_options', 'no model fitted yet: run `profile-stream predict fit` first');
          let bar: ReturnType<typeof progressBar> | undefined;
          const summary = await scoreProfiles({
            store: new ProfileStore({ redis, prefix: ctx.redisPrefix, windowMs }),
            model,
            now: parseAsOf(opts.asOf),
            publish: publishScored(clients),
            onProgress: (done, total) => {
              bar ??= progressBar('scoring', total);
              bar.update(done);
            },
          });
          bar?.stop();
          const rate = Math.round(summary.scored / Math.max(0.001, summary.ms / 1000));
          if (opts.json) process.stdout.write(`${JSON.stringify({ model_version: model.version, ...summary, per_second: rate }, null, 2)}\n`);
          else
            process.stdout.write(
              `scored ${summary.scored} of ${summary.profiles} profiles with model version ${model.version} (${summary.withoutOrders} without an order) in ${summary.ms} ms, ${rate}/s\n`,
            );
        });
      } finally {
        await clients.close();
      }
    });

  predict
    .command('report')
    .description('the current model, and a holdout check: refit on the orders before the last --holdout-days, expected vs actual by frequency')
    .option('--holdout-days <n>', 'length of the holdout period', '90')
    .option('--as-of <time>', 'the end of the holdout period (ISO-8601 or epoch ms)', 'now')
    .option('--json', 'JSON instead of text')
    .action(async (opts: { holdoutDays: string; asOf: string; json?: boolean }) => {
      const holdoutDays = number('--holdout-days', opts.holdoutDays, 1);
      const model = await withModels((models) => models.current());
      const now = parseAsOf(opts.asOf);
      const { orders } = await warehouseOrders(now);
      const check = holdoutCheck([...orders.values()], now, holdoutDays);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ model, holdout: { days: holdoutDays, calibration_end: new Date(check.cut).toISOString(), fit: check.fit, rows: check.rows } }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(`${model === null ? 'no model fitted yet: run `profile-stream predict fit`' : describeModel(model)}\n\n`);
      const p = check.fit.params;
      process.stdout.write(
        `holdout check: fitted on orders up to ${new Date(check.cut).toISOString()} (r=${p.r.toFixed(4)} α=${p.alpha.toFixed(4)} a=${p.a.toFixed(4)} b=${p.b.toFixed(4)}), purchase days in the following ${holdoutDays} d:\n`,
      );
      printTable(
        check.rows.map((r) => ({
          'calibration frequency': r.frequency,
          customers: r.customers,
          actual: r.actual.toFixed(3),
          expected: r.expected.toFixed(3),
          'std. error': r.actualStdError.toFixed(3),
        })),
      );
    });
}
