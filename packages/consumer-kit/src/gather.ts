/**
 * Chunks of several partitions handled in ONE handler call. kafkajs hands a fetch's batches to eachBatch one per
 * partition, all started in the same turn of the event loop (partitionsConsumedConcurrently ≥ the partitions); the
 * consume loop gives each partition's chunk to a gatherer, which waits for that turn to end (setImmediate) and runs
 * the handler once on the chunks that joined, in the order they joined, up to `max` messages. Measured on the 2-core
 * machine (issue 12): at 300 events/s a stitcher handled ~80 chunks/s of ~4 events, each with its own identity script,
 * produce and commit; CPU per chunk, not per event, filled the machine. Each partition gets its own chunk's outcomes
 * and the shared result of the call (e.g. its deferred effects).
 */
export interface Gathered<O, S> {
  outcomes: O[];
  shared: S;
}

interface Group<M, C, O, S> {
  parts: M[][];
  size: number;
  ctx: C;
  done: Promise<Gathered<O, S>>;
}

/**
 * A gatherer: `join(chunk, ctx)` resolves with that chunk's outcomes once the group's single `run` returned; `run`
 * gets the first joiner's ctx. A run that throws rejects every chunk in it.
 */
export function gatherer<M, C, O, S>(run: (messages: M[], ctx: C) => Promise<Gathered<O, S>>, max: number) {
  let open: Group<M, C, O, S> | undefined;
  return (chunk: M[], ctx: C): Promise<Gathered<O, S>> => {
    if (open === undefined || open.size + chunk.length > max) {
      const g: Group<M, C, O, S> = { parts: [], size: 0, ctx, done: undefined as never };
      g.done = new Promise<void>((r) => setImmediate(r)).then(() => {
        if (open === g) open = undefined;
        return run(g.parts.flat(), g.ctx);
      });
      open = g;
    }
    const g = open;
    const from = g.size;
    g.parts.push(chunk);
    g.size += chunk.length;
    return g.done.then((r) => ({ outcomes: r.outcomes.slice(from, from + chunk.length), shared: r.shared }));
  };
}
