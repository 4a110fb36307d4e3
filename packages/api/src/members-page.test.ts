// membersPage over a fake SSCAN that, like Redis, treats COUNT as a hint (replies of its own size, in no order).
import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe } from 'vitest';
import { decodeCursor, encodeCursor, membersPage, type ScanStep } from './members-page.ts';
import { problemOf } from './problem.ts';

/** Shards as arrays; cursor = index; each reply is `chunk` members (reversed: the page must not rely on order). */
function fakeScan(shards: string[][], chunk: number, calls: { n: number } = { n: 0 }): ScanStep {
  return async (s, cursor) => {
    calls.n++;
    const from = Number(cursor);
    const to = Math.min(from + chunk, shards[s]!.length);
    return { next: to >= shards[s]!.length ? '0' : String(to), members: shards[s]!.slice(from, to).reverse() };
  };
}

async function pageAll(scan: ScanStep, shards: number, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const p = await membersPage(scan, shards, cursor, limit);
    pages.push(p.members);
    cursor = p.next ?? undefined;
    assert.ok(pages.length < 10_000, 'paging ends');
  } while (cursor !== undefined);
  return pages;
}

const shardsArb = fc
  .array(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 60 }), { minLength: 1, maxLength: 16 })
  .map((ss) => ss.map((xs, s) => xs.map((x) => `p${s}-${x}`)));

describe('membersPage', () => {
  test.prop([shardsArb, fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 70 })], { numRuns: 300 })(
    'pages through every member exactly once (the set unchanged), no page over the limit, whatever size the replies are',
    async (shards, chunk, limit) => {
      const pages = await pageAll(fakeScan(shards, chunk), shards.length, limit);
      for (const p of pages) assert.ok(p.length <= limit, `${p.length} > ${limit}`);
      for (const p of pages.slice(0, -1)) assert.equal(p.length, limit, 'only the last page is short');
      assert.deepEqual(pages.flat().sort(), shards.flat().sort());
    },
  );

  test('a reply bigger than the page is split, sorted, and continued after its last member', async () => {
    const shards = [['p5', 'p1', 'p4', 'p2', 'p3'], ['p9']];
    const first = await membersPage(fakeScan(shards, 100), 2, undefined, 2);
    assert.deepEqual(first.members, ['p1', 'p2']);
    assert.deepEqual(decodeCursor(first.next!, 2), { s: 0, c: '0', n: '0', a: 'p2' });
    const second = await membersPage(fakeScan(shards, 100), 2, first.next!, 10);
    assert.deepEqual(second, { members: ['p3', 'p4', 'p5', 'p9'], next: null });
  });

  test('a split reply that covers other members on its second reading is given again from its start (repeats, no losses)', async () => {
    const before = [['p1', 'p2', 'p3', 'p4']];
    const first = await membersPage(fakeScan(before, 3), 1, undefined, 2); // reply p1..p3 (next '3'), page p1, p2
    assert.deepEqual(first.members, ['p1', 'p2']);
    const after = [['p0', 'p1', 'p2', 'p3', 'p4']]; // a member added in front: the same cursor now ends at '3' with p0..p2
    const second = await membersPage(fakeScan(after, 2), 1, first.next!, 10);
    assert.deepEqual(second.members, ['p0', 'p1', 'p2', 'p3', 'p4']);
  });

  test('empty shards are passed over in one page; an empty segment is one empty last page', async () => {
    const calls = { n: 0 };
    const shards = [[], [], ['p1'], [], []];
    assert.deepEqual(await membersPage(fakeScan(shards, 10, calls), 5, undefined, 10), { members: ['p1'], next: null });
    assert.equal(calls.n, 5);
    assert.deepEqual(await membersPage(fakeScan([[], []], 10), 2, undefined, 10), { members: [], next: null });
  });

  test('a cursor not made by this listing is invalid_request naming the cursor', async () => {
    const scan = fakeScan([['p1']], 10);
    const junk = [
      'nonsense',
      '',
      encodeCursor({ s: 4, c: '0' }),
      encodeCursor({ s: -1, c: '0' }),
      encodeCursor({ s: 0, c: 'x' }),
      encodeCursor({ s: 0, c: '0', n: '0' }),
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('null').toString('base64url'),
    ];
    for (const c of junk) {
      const err = await membersPage(scan, 4, c, 10).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(problemOf(err).code, 'invalid_request', c);
      assert.match(problemOf(err).detail, /^cursor/);
    }
  });
});
