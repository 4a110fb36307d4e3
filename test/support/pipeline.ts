/**
 * Helpers for pipeline tests: produce a generated data set, start services as real processes, wait until a
 * consumer group has committed everything, and compute the oracle's profiles for the same events.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { eventKey, type TopicId } from '@profile-stream/contracts';
import { committedToEnd, createProducer, REPO_ROOT, type KafkaClient } from '@profile-stream/consumer-kit';
import type { GeneratedRecord } from '@profile-stream/generator';
import type { Redis } from 'ioredis';
import { ProfileStore } from '@profile-stream/profile';
import { oracleProfiles } from '@profile-stream/profile/testing';
import { spawnTs, waitUntil, type TestEnv } from './index.ts';

export { oracleProfiles, type OracleProfile } from '@profile-stream/profile/testing';

export const INPUTS = ['clickstream', 'purchases', 'support-tickets'] as const;

export async function produceRecords(env: TestEnv, records: GeneratedRecord[]): Promise<void> {
  const producer = createProducer(env.kafka);
  await producer.connect();
  const byTopic = new Map<string, { key: string | null; value: Buffer }[]>();
  for (const r of records) {
    const topic = env.topics[r.topic].topic;
    const value = 'malformed' in r ? Buffer.from(r.raw) : await env.registry.encode(topic, r.value);
    const key = 'malformed' in r ? r.key : eventKey(r.topic as TopicId, r.value as never);
    const list = byTopic.get(topic) ?? [];
    list.push({ key, value });
    byTopic.set(topic, list);
  }
  try {
    for (const [topic, messages] of byTopic) {
      for (let i = 0; i < messages.length; i += 1000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect(); // also on failure, or the open connection keeps the test process alive
  }
}

export interface ServiceProcess {
  child: ChildProcess;
  stderr(): string;
  /** True once the service logged its `… started` line (needs LOG_LEVEL info or lower). */
  started(): boolean;
}

export function startService(env: NodeJS.ProcessEnv, name: string): ServiceProcess {
  const child = spawnTs(resolve(REPO_ROOT, `services/${name}/src/main.ts`), [], env);
  let err = '';
  let started = false;
  child.stderr!.on('data', (d) => {
    err = (err + d).slice(-20_000);
    if (!started && /"msg":"[a-z -]+ started"/.test(err.slice(-4_000))) started = true;
  });
  child.stdout!.resume();
  return { child, stderr: () => err, started: () => started };
}

export async function stopService(s: ServiceProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  s.child.kill(signal);
  const [code] = (await once(s.child, 'exit')) as [number | null];
  return code;
}

/** Waits until `groupId` has committed the end of `topic` (every partition, as the broker reports them now). */
export async function waitCommitted(kafka: KafkaClient, groupId: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitUntil(`${groupId} to commit ${topic}`, () => committedToEnd(kafka, groupId, [topic], admin), timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

/** Every oracle customer's profile (found by its first identifier) holds exactly the oracle's document. */
export async function assertOracleProfiles(redis: Redis, prefix: string, records: GeneratedRecord[]): Promise<void> {
  const store = new ProfileStore({ redis, prefix, windowMs: 90 * 86_400_000 });
  for (const p of oracleProfiles(records)) {
    const [type, ...rest] = p.keys[0]!.split(':');
    const pid = await store.owner(type as 'email', rest.join(':'));
    assert.ok(pid, `no profile owns ${p.keys[0]}`);
    assert.deepEqual((await store.read(pid))?.doc, p.doc, `the profile of ${p.keys[0]}`);
  }
}
