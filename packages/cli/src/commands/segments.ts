/**
 * `segments list | show <id> | backfill <id>`: the definitions (segments/*.yaml, or SEGMENTS_DIR) with their
 * sizes, one definition in full, and the backfill of a new or changed definition over every existing profile
 * (changes go through the outbox with reason definition_changed; a running segmenter's relay publishes them).
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { ProfileStore } from '@profile-stream/profile';
import { loadDefinitions, RfmVersions, type SegmentDefinition } from '@profile-stream/segments';
import {
  backfill,
  currentDefinitions,
  fingerprintOf,
  forgetDefinition,
  loadSegmenterConfig,
  MembershipStore,
  recordDefinitions,
  recordedDefinitions,
  recordShards,
  retireDefinition,
  segmentKeys,
  type SegmenterConfig,
} from '@profile-stream/segmenter';
import { connectRedis } from '../clients.ts';
import { cliContext } from '../context.ts';
import { progressBar } from '../progress.ts';

interface Opened {
  cfg: SegmenterConfig;
  /** As the segmenter evaluates them: with the current RFM breakpoints when RFM_BREAKPOINTS=population. */
  defs: readonly SegmentDefinition[];
  redis: Redis;
  memberships: MembershipStore;
  profiles: ProfileStore;
}

async function open(): Promise<Opened> {
  const cfg = loadSegmenterConfig(cliContext('segments').env);
  const loaded = await loadDefinitions(cfg.segmentsDir, { params: cfg.params, each: { tier: cfg.loyaltyTiers } });
  const redis = await connectRedis(cfg.conn.redis.url);
  // Sizes, backfills and retirements read and write by shard: refused with another count than the state's.
  await recordShards(redis, segmentKeys(cfg.redisPrefix).shards, cfg.shards).catch((err: unknown) => {
    redis.disconnect();
    throw err;
  });
  return {
    cfg,
    defs: await currentDefinitions(loaded, cfg.rfmBreakpoints, new RfmVersions(redis, cfg.redisPrefix)),
    redis,
    memberships: new MembershipStore(redis, { prefix: cfg.redisPrefix, shards: cfg.shards }),
    profiles: new ProfileStore({ redis, prefix: cfg.redisPrefix, windowMs: 1 }),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

export function registerSegments(program: Command): void {
  const segments = program.command('segments').description('segment definitions, their sizes, and backfills');

  segments
    .command('list')
    .description('every definition with its version, members now and backfill state')
    .option('--json', 'JSON instead of a table')
    .action(async (opts: { json?: boolean }) => {
      const o = await open();
      try {
        const recorded = await recordedDefinitions(o.redis, o.memberships.keys);
        const rows = [];
        for (const d of o.defs) {
          const r = recorded.get(d.id);
          const state = r === undefined ? 'not seen by a segmenter yet' : r.backfilled === fingerprintOf(d) ? 'current' : 'changed: run segments backfill';
          rows.push({ id: d.id, version: d.version, members: (await o.memberships.size(d.id)).members, state, name: d.name });
        }
        const b = await o.memberships.backlog();
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ segments: rows, scheduled: b.scheduled, outbox: b.outbox, next_due: b.nextDue === null ? null : iso(b.nextDue) }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(
          table([['SEGMENT', 'VERSION', 'MEMBERS', 'STATE', 'NAME'], ...rows.map((r) => [r.id, String(r.version), String(r.members), r.state, r.name])]),
        );
        process.stdout.write(
          `\n${b.scheduled} profile(s) scheduled for a clock-driven re-evaluation (next at ${iso(b.nextDue)}); ${b.outbox} membership event(s) waiting for the relay\n`,
        );
      } finally {
        o.redis.disconnect();
      }
    });

  segments
    .command('show')
    .description('one definition in full, its size and some members')
    .argument('<id>', 'segment id')
    .option('-n, --sample <n>', 'members to show', (v) => Number.parseInt(v, 10), 10)
    .action(async (id: string, opts: { sample: number }) => {
      const o = await open();
      try {
        const d = o.defs.find((x) => x.id === id);
        if (!d)
          throw new ProfileStreamError(
            'config_invalid',
            `no segment ${JSON.stringify(id)} in ${o.cfg.segmentsDir} (known: ${o.defs.map((x) => x.id).join(', ')})`,
          );
        const size = await o.memberships.size(id, opts.sample);
        process.stdout.write(
          `${JSON.stringify(
            {
              id: d.id,
              version: d.version,
              name: d.name,
              description: d.description,
              file: d.file,
              requires_consent: d.requires_consent,
              traits: d.traits,
              params: d.params,
              condition: d.condition,
              members: size.members,
              sample: size.sample,
            },
            null,
            2,
          )}\n`,
        );
      } finally {
        o.redis.disconnect();
      }
    });

  segments
    .command('backfill')
    .description('evaluate a new or changed definition over every existing profile (reason definition_changed); for a removed definition, its members exit')
    .argument('<id>', 'segment id')
    .action(async (id: string) => {
      const o = await open();
      try {
        const d = o.defs.find((x) => x.id === id);
        const recorded = (await recordedDefinitions(o.redis, o.memberships.keys)).get(id);
        let result: { evaluated: number; total: number; changed: number };
        if (d) {
          let bar: ReturnType<typeof progressBar> | undefined;
          result = await backfill(d, {
            profiles: o.profiles,
            memberships: o.memberships,
            now: Date.now,
            onProgress: (p) => {
              bar ??= progressBar(`backfill ${id}`, p.total);
              bar.update(p.done);
            },
          });
          bar?.stop();
          await recordDefinitions(o.redis, o.memberships.keys, o.defs, new Set([id]));
        } else if (recorded) {
          result = await retireDefinition(id, recorded.version + 1, { profiles: o.profiles, memberships: o.memberships, now: Date.now });
          await forgetDefinition(o.redis, o.memberships.keys, id);
        } else {
          throw new ProfileStreamError('config_invalid', `no segment ${JSON.stringify(id)} in ${o.cfg.segmentsDir} and none recorded in Redis`);
        }
        const b = await o.memberships.backlog();
        process.stdout.write(
          `${id}: ${result.evaluated} profile(s) evaluated (${result.total - result.evaluated} merged away, skipped), ${result.changed} membership change(s) written; ${b.outbox} event(s) in the outbox (published by a running segmenter's relay)\n`,
        );
      } finally {
        o.redis.disconnect();
      }
    });
}
