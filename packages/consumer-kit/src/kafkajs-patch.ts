/**
 * Five fixes for kafkajs 2.2.4 (1 and 2 here; 3 to 5, how requests are encoded, in kafkajs-encoder.ts), applied once before consumer-kit's modules load kafkajs: they take kafkajs from here
 * (`kafkajs` below), so the fixes are in place before kafkajs's own modules are, whatever order the imports are in.
 *
 * 1. The request queue (RequestQueue#scheduleCheckPendingRequests).
 *
 * After a connection's first answer, `RequestQueue#scheduleCheckPendingRequests` re-arms itself for ever: with nothing
 * pending and no throttling its delay is `-1 - Date.now()`, which Node turns into 1 ms. So every broker connection of
 * every client runs a timer a millisecond that checks an empty queue (kafkajs issues #1556, #1604, #1704; the fixes
 * are unreleased pull requests, and kafkajs has had no release since 2023). Measured under `bench segments` at 100
 * events/s: the timer was ~4 % of the stitcher's main thread, and with the fix the whole machine went from 94 % to
 * 80 % of a core busy, the bench's observers from 7 % each to 2-4 % (README, *After (issue 12), third round*).
 *
 * The check is needed only while a request waits: one that could not be sent at once (in-flight limit or
 * client-side throttling) is pushed to `pending`, and `push` schedules a check then; an answer or a timeout checks the
 * queue again. So the fixed version schedules only when something is pending: at the end of the throttling, or after
 * kafkajs's own 10 ms when the queue waits on its in-flight limit (as kafkajs does, see #1532).
 */
import { createRequire } from 'node:module';
import { installModule } from './kafkajs-encoder.ts';

const require = createRequire(import.meta.url);

/** The parts of kafkajs's RequestQueue (src/network/requestQueue/index.js) the fix reads and writes. */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (not exported). */
const CHECK_PENDING_MS = 10;

function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_MS,
  );
}

/** kafkajs's RequestQueue class (CommonJS, not in its typings). */
export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  new (options: Record<string, unknown>): RequestQueueInternals;
  prototype: RequestQueueInternals;
};

/** Marks the fixed method (Node's require cache, and so the class, can outlive one load of this module: test runners). */
const FIXED = Symbol.for('profile-stream.kafkajs-request-queue-fix');
const original = RequestQueue.prototype.scheduleCheckPendingRequests as RequestQueueInternals['scheduleCheckPendingRequests'] & { [FIXED]?: true };
/** Whether kafkajs's method is the one this fix replaces (its source names the unconditional re-arm). */
const knownBug = /let scheduleAt = this\.throttledUntil - Date\.now\(\)[\s\S]*setTimeout/.test(original.toString());

/**
 * Replaces the method when it is kafkajs 2.2.4's. Another kafkajs (a fixed or changed queue) is left as it is, and
 * `kafkajsQueueFixed` says so: a test checks it, so an upgrade is reviewed rather than silently patched.
 */
export const kafkajsQueueFixed: boolean = original[FIXED] === true || knownBug;
if (knownBug) RequestQueue.prototype.scheduleCheckPendingRequests = Object.assign(scheduleCheckPendingRequests, { [FIXED]: true as const });

/*
 * 2. Grouping a produce request's messages per partition (src/producer/groupMessagesPerPartition.js). 2.2.4 does it in a
 * reduce that copies the partition's whole array for every message (`[...current, message]`): O(n² / partitions) for a
 * sendBatch of n messages, ~3-4 % of the stitcher's and the segmenter's main thread under `bench segments`.
 * sendMessages.js keeps the function it required when it was loaded, so the replacement goes into Node's require cache
 * before kafkajs's producer modules load: as a new module object, so `module.children` of sendMessages.js tells which
 * function it holds.
 */

/** What sendMessages.js passes (kafkajs's messages and partition metadata are opaque here). */
type GroupArgs<M> = {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner(args: { topic: string; partitionMetadata: unknown[]; message: M }): number;
};

/** The same result as 2.2.4's (partitions asked in message order, messages in order within a partition), in one pass. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  // forEach, as reduce, skips an array's holes
  messages.forEach((message) => {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current) current.push(message);
    else result[partition] = [message];
  });
  return result;
}

export const GROUPING_PATH = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
export const SEND_MESSAGES_PATH = require.resolve('kafkajs/src/producer/sendMessages.js');
const LINEAR = Symbol.for('profile-stream.kafkajs-linear-grouping');
type Marked = { [LINEAR]?: true };

/** Which grouping sendMessages.js holds: the module it required, from its module's children (undefined: not loaded yet). */
export function groupingInSendMessages(): 'linear' | 'original' | undefined {
  const sendMessages = require.cache[SEND_MESSAGES_PATH];
  if (!sendMessages) return undefined;
  const grouping = sendMessages.children.find((m) => m.filename === GROUPING_PATH);
  return (grouping?.exports as Marked | undefined)?.[LINEAR] === true ? 'linear' : 'original';
}

/** Whether the installed function is 2.2.4's (its source names the copying reduce). */
const originalGrouping = require(GROUPING_PATH) as Marked;
const knownQuadratic = /messages\.reduce\([\s\S]*Object\.assign\(result, \{ \[partition\]: \[\.\.\.current, message\] \}\)/.test(originalGrouping.toString());
if (originalGrouping[LINEAR] !== true && knownQuadratic) {
  installModule(GROUPING_PATH, Object.assign(groupMessagesPerPartition, { [LINEAR]: true as const }));
}

/**
 * Whether kafkajs's producer groups with the linear function: false for another kafkajs (a test checks the flag, so an
 * upgrade is reviewed), or when kafkajs's producer modules were loaded before this module (sendMessages.js then holds
 * the original for good).
 */
export const kafkajsGroupingFixed: boolean =
  (require.cache[GROUPING_PATH]?.exports as Marked | undefined)?.[LINEAR] === true && groupingInSendMessages() !== 'original';

export * from './kafkajs-encoder.ts';

/** kafkajs itself, loaded after the fixes: consumer-kit's modules import it from here. */
export const kafkajs = require('kafkajs') as typeof import('kafkajs');
