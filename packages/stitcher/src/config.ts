/** Stitcher settings, parsed once from the environment (a bad value stops the start naming the variable). */
import { z } from 'zod';
import { ConfigError, env, loadSharedConfig, OPS_PORTS, parseSettings, setting, type Env, type SharedConfig } from '@profile-stream/consumer-kit';
import { TOPIC_DEFAULTS, TOPIC_IDS } from '@profile-stream/contracts';
import type { InputTopic } from '@profile-stream/profile';

/** The input topics: one stitcher each, all on this package (schemas/topics.json `input: true`). */
export type InputTopicId = InputTopic;
export const INPUTS = TOPIC_IDS.filter((id): id is InputTopicId => TOPIC_DEFAULTS[id].input);

export const STITCHER_SETTINGS = {
  STITCHER_GROUP_ID: setting(env.optionalString(), 'consumer group of a stitcher', '`profile-stream.<topic>-stitcher`'),
  STITCHER_ALSO_TOPICS: setting(
    env.list(),
    `more input topics (${INPUTS.join(', ')}) this stitcher consumes in the same process and consumer group: one fetch, identity step, produce and commit per cycle for all of them, e.g. \`loyalty\` on the purchases stitcher; do not also run their own stitchers`,
  ),
  STITCHER_OPS_PORT: setting(
    env.optionalOpsPort(),
    `\`/health\` and \`/metrics\` port (${INPUTS.join(' / ')}; 0 = any free port)`,
    INPUTS.map((t) => OPS_PORTS[t]).join(' / '),
  ),
  STITCHER_CHUNK_SIZE: setting(env.int(2000, 1, 100_000), 'events per handled-and-committed chunk'),
  STITCHER_PARTITIONS_CONCURRENTLY: setting(env.int(6, 1, 1000), 'partitions whose chunks are handled at the same time'),
  STITCHER_IDENTITY_CACHE: setting(env.int(200_000, 0, 100_000_000), 'identifier sets whose resolution is kept in memory (0 = none)'),
  STITCHER_PROFILE_CACHE: setting(
    env.int(10_000, 0, 10_000_000),
    'profiles whose document this stitcher last wrote kept in memory: their next fold reads nothing (compare-and-set keeps it exact with other writers; 0 = none)',
  ),
  STITCHER_PROFILE_CACHE_TTL_MS: setting(
    env.int(300_000, 1000, 86_400_000),
    'how long a kept document serves; expired ones leave memory within half as long again (what bounds how long a stitcher holds a profile erased elsewhere)',
  ),
  STITCHER_SWEEP_MS: setting(
    env.int(30_000, 0, 86_400_000),
    'how often each stitcher finishes merges another process left unfinished (decided at least this long ago); 0 = never',
  ),
  STITCHER_FETCH_MIN_BYTES: setting(
    env.int(1, 1, 64 << 20),
    'a fetch is answered once it holds this many bytes (or after `STITCHER_FETCH_MAX_WAIT_MS`): more makes fewer, larger cycles, less CPU per event, up to that wait more latency; 1 = at the first event',
  ),
  STITCHER_FETCH_MAX_WAIT_MS: setting(
    env.int(100, 1, 30_000),
    'the longest a fetch waits for `STITCHER_FETCH_MIN_BYTES` (only then: with 1 byte an idle fetch waits kafkajs’s 5 s)',
  ),
  STITCHER_SESSION_TIMEOUT_MS: setting(env.int(30_000, 6000, 300_000), "consumer-group session timeout (a crashed stitcher's partitions move after it)"),
  STITCHER_KILL_AT: setting(
    z
      .string()
      .regex(/^[a-z:-]+(#[1-9][0-9]*)?$/, 'expected <gate step>[#n], e.g. merge:seal#1')
      .optional(),
    'fault tests only: the stitcher kills itself with SIGKILL at a store step (`merge:seal`, `fold#2`, …)',
  ),
  PROFILE_DEDUP_WINDOW_DAYS: setting(
    env.int(90, 1, 3650),
    "de-duplication window, on arrival time; keep it longer than the input topics' retention (see *Profiles*)",
  ),
};

export interface StitcherConfig extends SharedConfig {
  /** The stitcher's own input topic (its service name, group and ops port follow from it). */
  topicId: InputTopicId;
  /** Every input topic it consumes: its own first, then STITCHER_ALSO_TOPICS. */
  topicIds: InputTopicId[];
  service: string;
  groupId: string;
  opsPort: number;
  chunkSize: number;
  /** Partitions whose chunks are handled at the same time (their Redis and Kafka round trips overlap). */
  partitionsConcurrently: number;
  /** Identifier sets whose resolution is kept across chunks (0 = no cache). */
  identityCacheSize: number;
  /** Profiles whose last written document is kept as the base of their next fold (0 = none). */
  profileCacheSize: number;
  /** How long a kept document serves as a fold's base (ms). */
  profileCacheTtlMs: number;
  /** Consumer-group session timeout (a crashed stitcher's partitions move after it). */
  sessionTimeoutMs: number;
  /** Fetch batching (consume-loop's fetchMinBytes / fetchMaxWaitMs): the wait only applies with more than 1 byte. */
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  /** How often (and after how long) merges another process left unfinished are finished (0 = never). */
  sweepMs: number;
  /** Fault tests only: SIGKILL this process when it reaches a gate step (the n-th time). */
  killAt: { step: string; n: number } | undefined;
  windowMs: number;
}

export function loadStitcherConfig(topicId: InputTopicId, e: Env): StitcherConfig {
  const shared = loadSharedConfig(e);
  const c = parseSettings(STITCHER_SETTINGS, e);
  const also = c.STITCHER_ALSO_TOPICS;
  for (const [i, t] of also.entries()) {
    if (!(INPUTS as readonly string[]).includes(t)) throw new ConfigError('STITCHER_ALSO_TOPICS', `${t} is not an input topic (${INPUTS.join(', ')})`);
    if (t === topicId || also.indexOf(t) !== i) throw new ConfigError('STITCHER_ALSO_TOPICS', `${t} is named twice (this stitcher's own topic is ${topicId})`);
  }
  const topicIds = [topicId, ...(also as InputTopicId[])];
  // A stitcher of several topics is a service of its own: its name (metrics, logs) and default group say which.
  const service = `${topicIds.join('+')}-stitcher`;
  const [step, n] = c.STITCHER_KILL_AT?.split('#') ?? [];
  return {
    ...shared,
    topicId,
    topicIds,
    service,
    groupId: c.STITCHER_GROUP_ID ?? `profile-stream.${service}`,
    opsPort: c.STITCHER_OPS_PORT ?? OPS_PORTS[topicId],
    chunkSize: c.STITCHER_CHUNK_SIZE,
    partitionsConcurrently: c.STITCHER_PARTITIONS_CONCURRENTLY,
    identityCacheSize: c.STITCHER_IDENTITY_CACHE,
    profileCacheSize: c.STITCHER_PROFILE_CACHE,
    profileCacheTtlMs: c.STITCHER_PROFILE_CACHE_TTL_MS,
    sweepMs: c.STITCHER_SWEEP_MS,
    sessionTimeoutMs: c.STITCHER_SESSION_TIMEOUT_MS,
    fetchMinBytes: c.STITCHER_FETCH_MIN_BYTES,
    fetchMaxWaitMs: c.STITCHER_FETCH_MAX_WAIT_MS,
    killAt: step === undefined ? undefined : { step, n: Number(n ?? 1) },
    windowMs: c.PROFILE_DEDUP_WINDOW_DAYS * 86_400_000,
  };
}
