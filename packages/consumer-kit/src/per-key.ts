/**
 * Per-key order, cross-key parallelism: messages with the same key run one after another in offset
 * order; different keys run concurrently (bounded). Errors become outcomes: retriable → retry,
 * anything else → dlq with the error's code (`step_failed` when it has none), so one bad message never stops the partition.
 */
import { failed, type BatchContext, type BatchHandler, type KitMessage, type Outcome } from './outcome.ts';

export type MessageHandler = (message: KitMessage, ctx: BatchContext) => Promise<Outcome>;

export function perKey(handle: MessageHandler, options: { concurrency?: number } = {}): BatchHandler {
  const concurrency = options.concurrency ?? 64;
  return async (messages, ctx) => {
    const groups = new Map<string, number[]>();
    messages.forEach((m, i) => {
      const k = m.key ? m.key.toString('latin1') : `\u0000offset:${m.offset}`;
      const g = groups.get(k);
      if (g) g.push(i);
      else groups.set(k, [i]);
    });
    const outcomes: Outcome[] = new Array(messages.length);
    const queue = [...groups.values()];
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        for (const i of g) outcomes[i] = await safely(handle, messages[i]!, ctx);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    return outcomes;
  };
}

export async function safely(handle: MessageHandler, m: KitMessage, ctx: BatchContext): Promise<Outcome> {
  try {
    return await handle(m, ctx);
  } catch (err) {
    return failed(err);
  }
}
