import { describe, expect, it } from 'vitest';
import { gatherer } from './gather.ts';

describe('gatherer', () => {
  it('runs the chunks that join in one turn of the event loop as one call, and gives each its own outcomes', async () => {
    const runs: { messages: string[]; ctx: string }[] = [];
    const join = gatherer<string, string, string, number>(async (messages, ctx) => {
      runs.push({ messages, ctx });
      return { outcomes: messages.map((m) => `done:${m}`), shared: runs.length };
    }, 100);
    const [a, b, c] = await Promise.all([join(['a1', 'a2'], 'p0'), join(['b1'], 'p1'), join(['c1', 'c2', 'c3'], 'p2')]);
    expect(runs).toEqual([{ messages: ['a1', 'a2', 'b1', 'c1', 'c2', 'c3'], ctx: 'p0' }]);
    expect(a).toEqual({ outcomes: ['done:a1', 'done:a2'], shared: 1 });
    expect(b).toEqual({ outcomes: ['done:b1'], shared: 1 });
    expect(c).toEqual({ outcomes: ['done:c1', 'done:c2', 'done:c3'], shared: 1 });
    await join(['d1'], 'p0'); // a later turn: a call of its own
    expect(runs.map((r) => r.messages)).toEqual([['a1', 'a2', 'b1', 'c1', 'c2', 'c3'], ['d1']]);
  });

  it('starts another call when the next chunk would pass max messages', async () => {
    const runs: string[][] = [];
    const join = gatherer<string, null, string, null>(async (messages) => {
      runs.push(messages);
      return { outcomes: messages, shared: null };
    }, 3);
    const got = await Promise.all([join(['a1', 'a2'], null), join(['b1', 'b2'], null), join(['c1'], null)]);
    expect(runs).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2', 'c1'],
    ]);
    expect(got.map((g) => g.outcomes)).toEqual([['a1', 'a2'], ['b1', 'b2'], ['c1']]);
  });

  it('a call that throws rejects every chunk in it', async () => {
    const join = gatherer<string, null, string, null>(async () => {
      throw new Error('redis went away');
    }, 10);
    const all = await Promise.allSettled([join(['a'], null), join(['b'], null)]);
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
