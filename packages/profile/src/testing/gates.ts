/**
 * Test control over the store's gates (store/gate.ts):
 *   Gates     one actor's gate: pause at the n-th arrival at a step (wait until it is reached, then release it), or
 *             crash there (the step throws, as a process that died at that point would stop).
 *   Scheduler several actors' gates: every actor stops at every gate; when as many are stopped as actors run, a
 *             seeded choice lets exactly one go on. With actors that do one thing at a time, the same seed gives the
 *             same interleaving of their round trips; an actor that folds several profiles at once has several
 *             branches, so the interleaving is then seeded but not exactly reproducible.
 */
import type { Gate, GateInfo, GateStep } from '../store/gate.ts';

export class Crash extends Error {
  constructor(step: GateStep) {
    super(`crashed at ${step}`);
    this.name = 'Crash';
  }
}

interface Rule {
  step: GateStep;
  nth: number;
  seen: number;
  when: (info: GateInfo) => boolean;
  action: 'pause' | 'crash';
  reached: PromiseWithResolvers<GateInfo>;
  release: PromiseWithResolvers<void>;
}

export interface Pause {
  /** Resolves when the actor is stopped at the step (with what it works on). */
  reached: Promise<GateInfo>;
  release(): void;
}

export class Gates {
  private readonly rules: Rule[] = [];
  /** Every step this actor passed, in order (for test messages). */
  readonly trace: string[] = [];

  readonly gate: Gate = async (step, info) => {
    this.trace.push(step);
    for (const r of this.rules) {
      if (r.step !== step || !r.when(info) || ++r.seen !== r.nth) continue;
      if (r.action === 'crash') throw new Crash(step);
      r.reached.resolve(info);
      await r.release.promise;
    }
  };

  pause(step: GateStep, o: { nth?: number; when?: (info: GateInfo) => boolean } = {}): Pause {
    const rule = this.add(step, 'pause', o);
    return { reached: rule.reached.promise, release: () => rule.release.resolve() };
  }

  crash(step: GateStep, o: { nth?: number; when?: (info: GateInfo) => boolean } = {}): void {
    this.add(step, 'crash', o);
  }

  private add(step: GateStep, action: Rule['action'], o: { nth?: number; when?: (info: GateInfo) => boolean }): Rule {
    const rule: Rule = {
      step,
      action,
      nth: o.nth ?? 1,
      seen: 0,
      when: o.when ?? (() => true),
      reached: Promise.withResolvers<GateInfo>(),
      release: Promise.withResolvers<void>(),
    };
    this.rules.push(rule);
    return rule;
  }
}

/** Mulberry32: a small seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Scheduler {
  private readonly random: () => number;
  private running = 0;
  private readonly waiting: { actor: number; step: GateStep; go: () => void }[] = [];
  /** The steps in the order they were let through: `<actor>:<step>`. */
  readonly order: string[] = [];

  constructor(seed: number) {
    this.random = prng(seed);
  }

  /** The gate of actor `n`. */
  gate(n: number): Gate {
    return (step) =>
      new Promise<void>((go) => {
        this.waiting.push({ actor: n, step, go });
        this.pick();
      });
  }

  /** Runs the actors to completion under this scheduler; the results (or errors) in the actors' order. */
  async run<T>(actors: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
    this.running = actors.length;
    return Promise.allSettled(
      actors.map(async (a) => {
        try {
          return await a();
        } finally {
          this.running--;
          this.pick();
        }
      }),
    );
  }

  /** When every running actor is stopped at a gate, one (chosen by the seed) goes on. */
  private pick(): void {
    if (this.running === 0 || this.waiting.length < this.running) return;
    const i = Math.floor(this.random() * this.waiting.length);
    const [w] = this.waiting.splice(i, 1);
    this.order.push(`${w!.actor}:${w!.step}`);
    w!.go();
  }
}
