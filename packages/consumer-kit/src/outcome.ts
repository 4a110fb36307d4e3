/**
 * What a step says about one message. One place (the consume loop) turns these into effects:
 * ok/drop → the offset may pass; dlq → the original bytes go to `<topic>.dlq` first; retry → try again later.
 */
import { codeOf, errorMessage, isRetriable } from './errors.ts';
import type { HopTimer } from './metrics.ts';

export type Outcome = { kind: 'ok' } | { kind: 'drop'; reason: string } | { kind: 'dlq'; reason: string; message: string } | { kind: 'retry'; error: unknown };

export const ok = (): Outcome => ({ kind: 'ok' });
export const drop = (reason: string): Outcome => ({ kind: 'drop', reason });
export const dlq = (reason: string, message: string): Outcome => ({ kind: 'dlq', reason, message });
export const retry = (error: unknown): Outcome => ({ kind: 'retry', error });

/** What a step's thrown error means: retriable → retry; else → dlq with the error's code (`step_failed` when it has none). */
export function failed(err: unknown): Outcome {
  return isRetriable(err) ? retry(err) : dlq(codeOf(err) ?? 'step_failed', errorMessage(err));
}

/** A message as steps see it: the kafkajs shape, detached from kafkajs. */
export interface KitMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
  timestamp: string;
}

export interface BatchContext {
  /** Keep group membership alive during long work. */
  heartbeat(): Promise<void>;
  signal: AbortSignal;
  /** Times the handler's own hops (prepare, resolve, …) into the kit's hop histogram, under the chunk's topic. */
  hops: HopTimer;
  /**
   * Hands over effects the handler has started but not waited for (a produce until acknowledged): the loop goes on
   * with the next chunk at once, runs `work` now (retrying it while it fails), and commits past this chunk only once
   * it and every earlier chunk's effects are done. Work must be safe to run again (at-least-once), and effects of
   * consecutive chunks may be in flight together. Without defer, effects are durable when the handler returns.
   */
  defer(work: () => Promise<unknown>): void;
}

/** Handles a chunk of messages from one partition, in offset order; returns one outcome per message. */
export type BatchHandler = (messages: KitMessage[], ctx: BatchContext) => Promise<Outcome[]>;
