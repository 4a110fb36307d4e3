import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kafkajs } from './kafkajs-patch.ts';
import { keyPartitioner, murmur2 } from './partitioner.ts';

const require = createRequire(import.meta.url);
/** kafkajs's own murmur2 (64-bit Long arithmetic), the reference. */
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

describe('keyPartitioner (partitioner.ts)', () => {
  it("murmur2 equals kafkajs's for any string key (UTF-8, long ones past the scratch buffer) and any bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 120 }), fc.string({ minLength: 250, maxLength: 400 })),
        (key) => {
          expect(murmur2(key)).toBe(kafkajsMurmur2(key));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const key = Buffer.from(bytes);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }),
      { numRuns: 1000 },
    );
  });

  it("gives a keyed message the partition kafkajs's DefaultPartitioner gives it", () => {
    const ours = keyPartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: 'v' } };
        expect(ours(args)).toBe(theirs(args));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an explicit partition, and spreads keyless messages over the partitions as kafkajs does', () => {
    const p = keyPartitioner();
    expect(p({ topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: 'v', partition: 4 } })).toBe(4);
    const seen = new Set<number>();
    for (let i = 0; i < 60; i++) seen.add(p({ topic: 't', partitionMetadata: metadata(6), message: { key: null, value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
