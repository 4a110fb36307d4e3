/** Segmenter settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { z } from 'zod';
import { env, loadSharedConfig, OPS_PORTS, parseSettings, REPO_ROOT, setting, type Env, type SharedConfig } from '@profile-stream/consumer-kit';
import type { ParamOverrides } from '@profile-stream/segments';

export const ROLES = ['evaluate', 'relay', 'schedule'] as const;
export type Role = (typeof ROLES)[number];

/** An override of a parameter the shipped `high-value` definition declares (a test loads the definitions with it). */
export const SEGMENT_PARAMS_EXAMPLE = '{"high-value":{"threshold_gbp_minor":100000}}';

const params = z.string().transform((raw, ctx): ParamOverrides => {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected JSON like ${SEGMENT_PARAMS_EXAMPLE}` });
    return z.NEVER;
  }
  const ok =
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((p) => typeof p === 'object' && p !== null && !Array.isArray(p));
  if (!ok) {
    ctx.addIssue({ code: 'custom', message: `expected an object of segment id → {param: value}, e.g. ${SEGMENT_PARAMS_EXAMPLE}` });
    return z.NEVER;
  }
  return v as ParamOverrides;
});

const roles = z.string().transform((raw, ctx): Set<Role> => {
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.some((r) => !(ROLES as readonly string[]).includes(r))) {
    ctx.addIssue({ code: 'custom', message: `expected a comma-separated subset of ${ROLES.join(', ')}` });
    return z.NEVER;
  }
  return new Set(list as Role[]);
});

export const SEGMENTER_SETTINGS = {
  SEGMENTS_DIR: setting(env.string('segments'), 'directory of the segment definitions (`*.yaml`), relative to the repository'),
  SEGMENT_PARAMS: setting(params.optional(), `JSON of parameter overrides per segment id, e.g. \`${SEGMENT_PARAMS_EXAMPLE}\``, '(none)'),
  SEGMENTER_ROLES: setting(env.string(ROLES.join(',')).pipe(roles), 'which roles this segmenter process runs'),
  SEGMENTER_GROUP_ID: setting(env.string('profile-stream.segmenter'), 'consumer group of the evaluate role'),
  SEGMENTER_OPS_PORT: setting(env.opsPort(OPS_PORTS.segmenter), '`/health` and `/metrics` port (0 = any free port)'),
  SEGMENTER_SHARDS: setting(
    env.int(16, 1, 4096),
    'shards of the membership state, outbox and schedule (fixed for a deployment: state is placed by it; recorded in Redis at the first start, another count is refused)',
  ),
  SEGMENTER_CHUNK_SIZE: setting(env.int(1000, 1, 100_000), 'changes per handled-and-committed chunk'),
  SEGMENTER_PARTITIONS_CONCURRENTLY: setting(env.int(6, 1, 1000), 'partitions handled at once'),
  SEGMENTER_TICK_MS: setting(env.int(100, 10, 60_000), 'how often the scheduler looks for due re-evaluations'),
  SEGMENTER_LEASE_MS: setting(env.int(5000, 1000, 600_000), "shard lease time-to-live (a dead owner's lease lapses after it)"),
  SEGMENTER_INSTANCE_ID: setting(env.optionalString(), "this instance's lease owner name", '`<host>:<pid>`'),
  RFM_BREAKPOINTS: setting(
    z.enum(['population', 'static'], { error: 'expected population or static' }).default('population'),
    '`population`: rfm conditions without a `model:` score against the current breakpoint version in Redis (static until one exists); `static`: `DEFAULT_RFM_MODEL`',
  ),
  RFM_POLL_MS: setting(env.int(10_000, 100, 3_600_000), 'how often the segmenter looks for a new RFM breakpoint version (one Redis GET)'),
};

export interface SegmenterConfig extends SharedConfig {
  service: string;
  groupId: string;
  opsPort: number;
  segmentsDir: string;
  params: ParamOverrides;
  roles: Set<Role>;
  /** Shards of the membership state, outbox and schedule (fixed for a deployment: state is placed by it). */
  shards: number;
  chunkSize: number;
  partitionsConcurrently: number;
  /** How often the scheduler looks for due re-evaluations (ms). */
  tickMs: number;
  /** Shard leases of the relay and the scheduler (one owner per shard; a dead owner's lease lapses after this). */
  leaseMs: number;
  instanceId: string;
  /** Where rfm conditions without a model of their own get their breakpoints (rfm.ts). */
  rfmBreakpoints: 'population' | 'static';
  rfmPollMs: number;
}

export function loadSegmenterConfig(e: Env): SegmenterConfig {
  const shared = loadSharedConfig(e);
  const c = parseSettings(SEGMENTER_SETTINGS, e);
  return {
    ...shared,
    service: 'segmenter',
    groupId: c.SEGMENTER_GROUP_ID,
    opsPort: c.SEGMENTER_OPS_PORT,
    segmentsDir: resolve(REPO_ROOT, c.SEGMENTS_DIR),
    params: c.SEGMENT_PARAMS ?? {},
    roles: c.SEGMENTER_ROLES,
    shards: c.SEGMENTER_SHARDS,
    chunkSize: c.SEGMENTER_CHUNK_SIZE,
    partitionsConcurrently: c.SEGMENTER_PARTITIONS_CONCURRENTLY,
    tickMs: c.SEGMENTER_TICK_MS,
    leaseMs: c.SEGMENTER_LEASE_MS,
    instanceId: c.SEGMENTER_INSTANCE_ID ?? `${hostname()}:${process.pid}`,
    rfmBreakpoints: c.RFM_BREAKPOINTS,
    rfmPollMs: c.RFM_POLL_MS,
  };
}
