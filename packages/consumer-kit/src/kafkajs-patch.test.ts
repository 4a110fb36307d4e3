import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inFreshService } from './testing/fresh-service.ts';
// consumer-kit's clients first, as a service loads them: the grouping check below is about what they load
import { createKafka } from './kafka.ts';
import { createProducer } from './producer.ts';
import {
  GROUPING_PATH,
  groupingInSendMessages,
  groupMessagesPerPartition,
  kafkajsGroupingFixed,
  kafkajsQueueFixed,
  RequestQueue,
  type RequestQueueInternals,
  SEND_MESSAGES_PATH,
} from './kafkajs-patch.ts';

type Queue = RequestQueueInternals & {
  inflight: Map<number, unknown>;
  push(r: object): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
};

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queues: Queue[] = [];

function queue(maxInFlightRequests: number): Queue {
  const q = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 't',
    broker: 'b:9092',
    logger: silent,
  }) as Queue;
  queues.push(q);
  return q;
}

/** Pushes a request; `sent` lists the correlation ids the queue handed to the socket, in order. */
function request(q: Queue, correlationId: number, sent: number[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    q.push({
      entry: { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve, reject },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    }),
  );
}

afterEach(() => {
  for (const q of queues.splice(0)) q.destroy();
  vi.useRealTimers();
});

describe("kafkajs's request queue, fixed (kafkajs-patch.ts)", () => {
  it('applies to the kafkajs installed (a changed kafkajs fails here, to be reviewed)', () => {
    expect(kafkajsQueueFixed).toBe(true);
  });

  it('schedules no check once a request is answered and nothing waits (2.2.4 re-armed a 1 ms timer for ever)', async () => {
    const q = queue(5);
    const sent: number[] = [];
    const answered = request(q, 1, sent);
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    await answered;
    expect(q.throttleCheckTimeoutId).toBeNull();
    expect(q.pending).toHaveLength(0);
  });

  it('sends a request held by the in-flight limit when an earlier one is answered', async () => {
    const q = queue(1);
    const sent: number[] = [];
    const first = request(q, 1, sent);
    void request(q, 2, sent);
    expect(sent).toEqual([1]);
    expect(q.pending).toHaveLength(1);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    await first;
    expect(sent).toEqual([1, 2]);
    expect(q.pending).toHaveLength(0);
  });

  it('sends a request held by client-side throttling once the throttling ends, with no answer to wake it', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const q = queue(5);
    const sent: number[] = [];
    q.maybeThrottle(250);
    void request(q, 1, sent);
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    vi.advanceTimersByTime(249);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('waits again when the throttling was extended while a request waited', () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const q = queue(5);
    const sent: number[] = [];
    q.maybeThrottle(100);
    void request(q, 1, sent);
    vi.advanceTimersByTime(50);
    q.maybeThrottle(200); // throttled until 250 ms from the start now
    vi.advanceTimersByTime(50); // the first check finds it still throttled and schedules the next for the new end
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    vi.advanceTimersByTime(149);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1]);
  });
});

type Grouping = typeof groupMessagesPerPartition<{ value: string; partition: number }>;

/** kafkajs's own function, evaluated from the installed source (the require cache holds the linear one). */
function originalGrouping(): Grouping {
  const module = { exports: {} as unknown };
  compileFunction(readFileSync(GROUPING_PATH, 'utf8'), ['module', 'exports', 'require'])(module, module.exports, createRequire(GROUPING_PATH));
  return module.exports as Grouping;
}

/** Groups with `group`, a partitioner that answers each message's own partition and logs what it was asked. */
function run(group: Grouping, messages: { value: string; partition: number }[], partitionCount: number) {
  const asked: unknown[] = [];
  const grouped = group({
    topic: 't',
    partitionMetadata: Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId })),
    messages,
    partitioner: ({ topic, partitionMetadata, message }) => {
      asked.push([topic, partitionMetadata.length, message]);
      return message.partition;
    },
  });
  return { grouped, asked };
}

describe("kafkajs's grouping of a produce request per partition, linear (kafkajs-patch.ts)", () => {
  it('applies to the kafkajs installed (a changed kafkajs, or kafkajs loaded before the fix, fails here)', () => {
    expect(kafkajsGroupingFixed).toBe(true);
  });

  it("is what kafkajs's sendMessages.js holds once consumer-kit's createKafka and createProducer are loaded", () => {
    expect([typeof createKafka, typeof createProducer]).toEqual(['function', 'function']);
    expect(createRequire(import.meta.url).cache[SEND_MESSAGES_PATH]).toBeDefined();
    expect(groupingInSendMessages()).toBe('linear');
  });

  it("is what sendMessages.js holds in a fresh Node process that loads consumer-kit's entry point only, as a service does", () => {
    expect(inFreshService('p.groupingInSendMessages()')).toEqual(['function', 'linear']);
  });

  it('the original is the copying reduce, the function in the require cache is not', () => {
    expect(originalGrouping().toString()).toContain('[...current, message]');
    // the source, not the identity: a second load of kafkajs-patch.ts (a test runner's) finds the first one's in the cache
    expect(String(createRequire(import.meta.url)(GROUPING_PATH))).toBe(String(groupMessagesPerPartition));
  });

  test.prop([fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 200 })))])(
    'groups as kafkajs 2.2.4 does: same partitions, same messages in the same order, the partitioner asked the same',
    ([partitionCount, partitions]) => {
      const messages = partitions.map((partition, i) => ({ value: `m${i}`, partition }));
      const original = run(originalGrouping(), messages, partitionCount);
      const linear = run(groupMessagesPerPartition, messages, partitionCount);
      expect(Object.keys(linear.grouped)).toEqual(Object.keys(original.grouped));
      expect(linear.grouped).toEqual(original.grouped); // every message's value is its own: same messages, same order
      expect(linear.asked).toEqual(original.asked);
    },
  );

  it('gives {} and asks the partitioner nothing without partition metadata, as kafkajs does', () => {
    const messages = [{ value: 'a', partition: 0 }];
    expect(run(groupMessagesPerPartition, messages, 0)).toEqual({ grouped: {}, asked: [] });
    expect(run(originalGrouping(), messages, 0)).toEqual({ grouped: {}, asked: [] });
  });
});
