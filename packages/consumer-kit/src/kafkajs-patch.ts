/**
 * A fix for kafkajs 2.2.4's request queue, applied once when consumer-kit loads kafkajs (kafka.ts).
 *
 * After a connection's first answer, `RequestQueue#scheduleCheckPendingRequests` re-arms itself for ever: with nothing
 * pending and no throttling its delay is `-1 - Date.now()`, which Node turns into 1 ms. So every broker connection of
 * every client runs a timer a millisecond that checks an empty queue (kafkajs issues #1556, #1604, #1704; the fixes
 * are unreleased pull requests, and kafkajs has had no release since 2023). Measured under `bench segments` at 100
 * events/s: the timers were ~11 % of the stitcher's CPU, and the processes of the pipeline and the bench, each with
 * its connections, spent more than a core on them between them (README, *After (issue 12), third round*).
 *
 * The check is needed only while a request waits: one that could not be sent at once (in-flight limit or
 * client-side throttling) is pushed to `pending`, and `push` schedules a check then; an answer or a timeout checks the
 * queue again. So the fixed version schedules only when something is pending: at the end of the throttling, or after
 * kafkajs's own 10 ms when the queue waits on its in-flight limit (as kafkajs does, see #1532).
 */
import { createRequire } from 'node:module';

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
