/** Profile API settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { resolve } from 'node:path';
import { z } from 'zod';
import { env, loadSharedConfig, parseSettings, REPO_ROOT, setting, type Env, type SharedConfig } from '@profile-stream/consumer-kit';
import { SEGMENTER_SETTINGS } from '@profile-stream/segmenter';
import { STITCHER_SETTINGS } from '@profile-stream/stitcher';
import { loadWarehouseConfig, type WarehouseConfig } from '@profile-stream/warehouse/config';
import type { ParamOverrides } from '@profile-stream/segments';

export const PROFILE_API_SETTINGS = {
  PROFILE_API_PORT: setting(env.opsPort(8080), 'port of the profile API (0 = any free port)'),
  PROFILE_API_HOST: setting(
    z.union([z.ipv4(), z.ipv6(), z.literal('localhost')], { error: 'expected an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0' }).default('127.0.0.1'),
    'address the profile API listens on (`0.0.0.0` for every interface)',
  ),
  PROFILE_API_RATE_LIMIT: setting(env.int(600, 1, 1_000_000), 'requests per minute per API key (then 429 with `Retry-After`)'),
  PROFILE_API_KEY_CACHE_SECONDS: setting(
    env.int(5, 0, 300),
    'seconds a verified API key is trusted without reading Redis again: a revoked key is refused within this (0 = read every request)',
  ),
};

/**
 * The definitions and memberships the API reads are the segmenter's: the same variables, declared once (segmenter),
 * RFM's breakpoints included, so a membership is explained with the model it was decided with.
 */
const SEGMENT_SOURCE = {
  SEGMENTS_DIR: SEGMENTER_SETTINGS.SEGMENTS_DIR,
  SEGMENT_PARAMS: SEGMENTER_SETTINGS.SEGMENT_PARAMS,
  SEGMENTER_SHARDS: SEGMENTER_SETTINGS.SEGMENTER_SHARDS,
  RFM_BREAKPOINTS: SEGMENTER_SETTINGS.RFM_BREAKPOINTS,
  RFM_POLL_MS: SEGMENTER_SETTINGS.RFM_POLL_MS,
};

/** A consent change is folded like an event's: with the stitchers' de-duplication window (declared there). */
const FOLD_SOURCE = { PROFILE_DEDUP_WINDOW_DAYS: STITCHER_SETTINGS.PROFILE_DEDUP_WINDOW_DAYS };

export interface ProfileApiConfig extends SharedConfig {
  service: string;
  port: number;
  host: string;
  rateLimitPerMinute: number;
  /** How long a verified key is trusted without a Redis read (ms). */
  keyCacheMs: number;
  segmentsDir: string;
  params: ParamOverrides;
  /** Shards of the segmenter's membership state. */
  shards: number;
  /** The segmenter's RFM model: the population's current breakpoint version (polled every rfmPollMs) or the static one. */
  rfmBreakpoints: 'population' | 'static';
  rfmPollMs: number;
  /** The profile store's de-duplication window (ms), the stitchers'. */
  windowMs: number;
  /** Where the timeline reads raw events, as `profile-stream sql` finds the warehouse, and how it stores e-mail and phone. */
  warehouse: Pick<WarehouseConfig, 'database' | 'opsPort' | 'pii' | 'piiKey'> & { url: string | undefined };
}

export function loadProfileApiConfig(e: Env): ProfileApiConfig {
  const shared = loadSharedConfig(e);
  const c = parseSettings(PROFILE_API_SETTINGS, e);
  const s = parseSettings(SEGMENT_SOURCE, e);
  const f = parseSettings(FOLD_SOURCE, e);
  // The warehouse's own settings (WAREHOUSE_DATABASE, WAREHOUSE_OPS_PORT, WAREHOUSE_PII, PII_HASH_KEY): read as it reads them.
  const w = loadWarehouseConfig(e);
  return {
    ...shared,
    service: 'profile-api',
    port: c.PROFILE_API_PORT,
    host: c.PROFILE_API_HOST,
    rateLimitPerMinute: c.PROFILE_API_RATE_LIMIT,
    keyCacheMs: c.PROFILE_API_KEY_CACHE_SECONDS * 1000,
    segmentsDir: resolve(REPO_ROOT, s.SEGMENTS_DIR),
    params: s.SEGMENT_PARAMS ?? {},
    shards: s.SEGMENTER_SHARDS,
    rfmBreakpoints: s.RFM_BREAKPOINTS,
    rfmPollMs: s.RFM_POLL_MS,
    windowMs: f.PROFILE_DEDUP_WINDOW_DAYS * 86_400_000,
    warehouse: { url: w.conn.clickhouse.url, database: w.database, opsPort: w.opsPort, pii: w.pii, piiKey: w.piiKey },
  };
}
