import { describe, expect, it } from 'vitest';
import { type CommitTarget, createCommitter } from './committer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t = (partition: number, offset: number): CommitTarget => ({ topic: 'in', partition, offset: String(offset) });

describe('committer', () => {
  it('coalesces the asks of an interval into one request with each partition at its highest offset', async () => {
    const sent: CommitTarget[][] = [];
    const c = createCommitter(async (targets) => {
      sent.push(targets);
    }, 50);
    const asks = [c.commit(t(0, 5)), c.commit(t(1, 3)), c.commit(t(0, 9)), c.commit(t(0, 7))];
    await Promise.all(asks);
    expect(sent).toEqual([[t(0, 9), t(1, 3)]]);
  });

  it('sends at most one request at a time and one per interval', async () => {
    const sent: { at: number; targets: CommitTarget[] }[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const c = createCommitter(async (targets) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      sent.push({ at: Date.now(), targets });
      await sleep(30);
      inFlight--;
    }, 40);
    const asks: Promise<void>[] = [];
    for (let i = 1; i <= 12; i++) {
      asks.push(c.commit(t(i % 3, i)));
      await sleep(10);
    }
    await Promise.all(asks);
    expect(maxInFlight).toBe(1);
    expect(sent.length).toBeLessThan(6);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(30 + 40 - 5);
    // every partition's last ask is in the last request that names it
    const last = new Map<number, string>();
    for (const s of sent) for (const x of s.targets) last.set(x.partition, x.offset);
    expect(Object.fromEntries(last)).toEqual({ 0: '12', 1: '10', 2: '11' });
  });

  it('rejects the asks a failed request carried, and later asks go in a new request', async () => {
    let fail = true;
    const sent: CommitTarget[][] = [];
    const c = createCommitter(async (targets) => {
      sent.push(targets);
      if (fail) throw new Error('broker said no');
    }, 0);
    await expect(c.commit(t(0, 1))).rejects.toThrow('broker said no');
    fail = false;
    await c.commit(t(0, 2));
    expect(sent).toEqual([[t(0, 1)], [t(0, 2)]]);
  });

  it('flush sends what waits without the interval', async () => {
    const sent: CommitTarget[][] = [];
    const c = createCommitter(async (targets) => {
      sent.push(targets);
    }, 60_000);
    await c.commit(t(0, 1)); // the first request goes at once (no earlier one)
    const second = c.commit(t(0, 2));
    await sleep(20);
    expect(sent).toHaveLength(1);
    await c.flush();
    await second;
    expect(sent).toEqual([[t(0, 1)], [t(0, 2)]]);
  });
});
