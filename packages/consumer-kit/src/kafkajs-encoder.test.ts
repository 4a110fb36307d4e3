import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { compileFunction } from 'node:vm';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// consumer-kit's clients first, as a service loads them: the checks below are about what they load
import { createKafka } from './kafka.ts';
import {
  CRC32C_PATH,
  ENCODER_PATH,
  encoderInRecord,
  GATHER_BYTES,
  GatheringEncoder,
  kafkajsBatchGathered,
  kafkajsCrcNative,
  kafkajsEncoderFixed,
  OriginalEncoder,
  OriginalRecordBatch,
  RECORD_BATCH_PATH,
  RECORD_PATH,
} from './kafkajs-patch.ts';
import { createProducer } from './producer.ts';
import { inFreshService } from './testing/fresh-service.ts';

/**
 * Bytes short and long: fast-check's default size keeps arrays to a few items, so lengths around and past
 * GATHER_BYTES (gathered by reference) are drawn on purpose.
 */
const bytes = fc
  .oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ minLength: GATHER_BYTES - 2, maxLength: 3 * GATHER_BYTES, size: 'max' }))
  .map((a) => Buffer.from(a));

/** One write of kafkajs's Encoder API, applied the same to the original and the replacement. */
const write = fc.oneof(
  fc.tuple(fc.constant('writeInt8' as const), fc.integer({ min: -128, max: 127 })),
  fc.tuple(fc.constant('writeInt16' as const), fc.integer({ min: -32768, max: 32767 })),
  fc.tuple(fc.constant('writeInt32' as const), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  fc.tuple(fc.constant('writeInt64' as const), fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String))),
  fc.tuple(fc.constant('writeVarInt' as const), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  fc.tuple(fc.constant('writeUVarInt' as const), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
  // numbers in and past 32 bits (the replacement's own path and 2.2.4's), and strings as kafkajs may pass them
  fc.tuple(
    fc.constant('writeVarLong' as const),
    fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)),
  ),
  fc.tuple(fc.constant('writeString' as const), fc.option(fc.string(), { nil: null })),
  fc.tuple(fc.constant('writeVarIntString' as const), fc.option(fc.string(), { nil: null })),
  fc.tuple(fc.constant('writeBytes' as const), fc.option(bytes, { nil: null })),
  fc.tuple(fc.constant('writeVarIntBytes' as const), fc.option(bytes, { nil: null })),
  // buffers past GATHER_BYTES are gathered by reference, shorter ones copied
  fc.tuple(fc.constant('writeBuffer' as const), bytes),
  fc.tuple(fc.constant('writeUVarIntBytes' as const), fc.option(bytes, { nil: null })),
);
type Write = [string, unknown];
type AnyEncoder = Record<string, (v: unknown, t?: string) => unknown> & { buffer: Buffer; size(): number };

/** Writes made on encoders of one class: plain ones, reading `buffer` between them, and other encoders (nested, or as arrays). */
type Step = Write | ['buffer', null] | ['writeEncoder', Write[]] | ['writeEncoderArray', Write[][]];
const writes: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: write },
    { weight: 1, arbitrary: fc.constant(['buffer', null] as ['buffer', null]) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('writeEncoder' as const), fc.array(write, { maxLength: 8 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('writeEncoderArray' as const), fc.array(fc.array(write, { maxLength: 4 }), { maxLength: 4 })) },
  ),
  { maxLength: 40 },
);

function encodeWith(E: new (initial?: number) => unknown, initial: number, steps: Step[]): AnyEncoder {
  const nested = (ws: Write[]) => encodeWith(E, 0, ws);
  const e = new E(initial) as AnyEncoder;
  for (const [method, value] of steps) {
    if (method === 'buffer') void e.buffer;
    else if (method === 'writeEncoder') e.writeEncoder!(nested(value as Write[]));
    else if (method === 'writeEncoderArray') e.writeArray!((value as Write[][]).map(nested), 'object');
    else e[method]!(value);
  }
  return e;
}

describe("kafkajs's protocol encoder, gathering (kafkajs-encoder.ts)", () => {
  it('applies to the kafkajs installed and is what its record encoder holds (a changed kafkajs fails here)', () => {
    expect([typeof createKafka, typeof createProducer]).toEqual(['function', 'function']);
    expect(kafkajsEncoderFixed).toBe(true);
    createRequire(import.meta.url)(RECORD_PATH); // kafkajs loads its protocol modules on first use
    expect(encoderInRecord()).toBe('gathering');
    expect(createRequire(import.meta.url)(ENCODER_PATH)).toBe(GatheringEncoder);
  });

  it('is what the record encoder holds in a fresh Node process that loads consumer-kit only, as a service does', () => {
    // kafkajs loads its protocol modules on first use: the record encoder is required first
    expect(inFreshService('(createRequire(p.RECORD_PATH)(p.RECORD_PATH), p.encoderInRecord())')).toEqual(['function', 'gathering']);
  });

  test.prop([fc.integer({ min: 0, max: 2000 }), writes])(
    'writes the same bytes as kafkajs 2.2.4 for any sequence of writes (nested encoders, buffers read between writes)',
    (initial, steps) => {
      const original = encodeWith(OriginalEncoder, initial, steps);
      const gathering = encodeWith(GatheringEncoder, initial, steps);
      expect(gathering.size()).toBe(original.size());
      expect(gathering.buffer.equals(original.buffer)).toBe(true);
    },
  );

  it('gathers a large buffer by reference and joins the bytes once, when asked for them', () => {
    const value = Buffer.alloc(4 * GATHER_BYTES, 7);
    const record = new GatheringEncoder().writeInt8(0).writeVarIntBytes(value) as unknown as GatheringEncoder;
    const batch = new GatheringEncoder().writeInt32(1).writeEncoder(record) as unknown as GatheringEncoder;
    expect(batch.chunks().some((part) => part === value)).toBe(true); // not copied on the way in
    const joined = batch.buffer;
    expect(joined.length).toBe(4 + 1 + 2 + value.length);
    expect(batch.chunks()).toEqual([joined]); // one part now; writing goes on after it
    batch.writeInt8(9);
    expect(batch.buffer.subarray(-1)[0]).toBe(9);
  });

  it('writes whole Kafka records as 2.2.4 does (record/v0 through each encoder)', () => {
    const source = readFileSync(RECORD_PATH, 'utf8');
    const recordWith = (E: unknown) => {
      const module = { exports: undefined as unknown };
      const load = compileFunction(source, ['require', 'module'], { filename: RECORD_PATH });
      const real = createRequire(RECORD_PATH);
      load((id: string) => (id.endsWith('/encoder') ? E : real(id)), module);
      return module.exports as (r: object) => { buffer: Buffer };
    };
    const [a, b] = [recordWith(OriginalEncoder), recordWith(GatheringEncoder)];
    fc.assert(
      fc.property(
        fc.record({
          offsetDelta: fc.nat(10_000),
          timestampDelta: fc.integer({ min: -1e12, max: 1e12 }),
          key: fc.option(
            fc.uint8Array({ maxLength: 64 }).map((x) => Buffer.from(x)),
            { nil: null },
          ),
          value: fc.option(bytes, { nil: null }),
          headers: fc.dictionary(fc.string({ minLength: 1 }), fc.string()),
        }),
        (r) => {
          expect(b(r).buffer.equals(a(r).buffer)).toBe(true);
        },
      ),
    );
  });
});

/** A kafkajs module evaluated from its installed source, with some of its requires answered by `given`. */
function fromSource(path: string, given: (id: string) => unknown): unknown {
  const module = { exports: {} as unknown };
  const real = createRequire(path);
  compileFunction(readFileSync(path, 'utf8'), ['require', 'module', 'exports'], { filename: path })(
    (id: string) => given(id) ?? real(id),
    module,
    module.exports,
  );
  return module.exports;
}

describe("kafkajs's record batch, gathered (kafkajs-encoder.ts)", () => {
  type Batch = (o: object) => Promise<{ buffer: Buffer }>;
  type Record = (r: object) => unknown;
  // 2.2.4 whole: its record and batch modules on its Encoder and its JavaScript checksum
  const crc224 = fromSource(CRC32C_PATH.replace(/index\.js$/, 'crc32C.js'), () => undefined) as (b: Buffer) => number;
  const originalCrc = fromSource(CRC32C_PATH, (id) => (id.endsWith('crc32C') ? crc224 : undefined));
  const originalRecord = fromSource(RECORD_PATH, (id) => (id.endsWith('/encoder') ? OriginalEncoder : undefined)) as Record;
  const originalBatch = (
    fromSource(RECORD_BATCH_PATH, (id) => (id.endsWith('/encoder') ? OriginalEncoder : id.endsWith('/crc32C') ? originalCrc : undefined)) as {
      RecordBatch: Batch;
    }
  ).RecordBatch;
  const require = createRequire(import.meta.url);
  const record = require(RECORD_PATH) as Record;
  const batch = (require(RECORD_BATCH_PATH) as { RecordBatch: Batch }).RecordBatch;

  it('is what kafkajs holds on this machine (native checksum, kafkajs 2.2.4)', () => {
    expect(kafkajsBatchGathered).toBe(true);
    expect(batch).not.toBe(OriginalRecordBatch);
  });

  const message = fc.record({
    key: fc.option(
      fc.uint8Array({ maxLength: 40 }).map((x) => Buffer.from(x)),
      { nil: null },
    ),
    value: bytes,
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
  });
  test.prop([fc.array(message, { maxLength: 30 }), fc.boolean(), fc.nat(1000), fc.integer({ min: -1, max: 5000 })])(
    'writes the same bytes as kafkajs 2.2.4 (records, checksum and all)',
    async (messages, transactional, firstSequence, producerId) => {
      const options = (records: unknown[]) => ({
        records,
        transactional,
        firstSequence,
        producerId,
        producerEpoch: 3,
        firstTimestamp: 1_700_000_000_000,
        maxTimestamp: 1_700_000_000_123,
        lastOffsetDelta: records.length - 1,
      });
      const of = (r: Record) => messages.map((m, i) => r({ ...m, offsetDelta: i, timestampDelta: i * 7 }));
      const want = (await originalBatch(options(of(originalRecord)))).buffer;
      expect((await batch(options(of(record)))).buffer.equals(want)).toBe(true);
      expect((await OriginalRecordBatch(options(of(record)))).buffer.equals(want)).toBe(true);
    },
  );
});

describe("kafkajs's record batch checksum, native (kafkajs-encoder.ts)", () => {
  const original = () => {
    // kafkajs's own, loaded from its source apart from the require cache
    const source = readFileSync(CRC32C_PATH.replace(/index\.js$/, 'crc32C.js'), 'utf8');
    const module = { exports: undefined as unknown };
    compileFunction(source, ['require', 'module'], { filename: CRC32C_PATH })(createRequire(CRC32C_PATH), module);
    const crc = module.exports as (b: Buffer) => number;
    return (b: Buffer) => Uint32Array.from([crc(b)])[0]!;
  };

  it('is the native one on this machine (linux x64: @node-rs/crc32 has its binary)', () => {
    expect(kafkajsCrcNative).toBe(true);
    expect(createRequire(import.meta.url)(CRC32C_PATH)).not.toBe(original());
  });

  test.prop([fc.uint8Array({ maxLength: 70_000 })])('gives the same unsigned checksum as kafkajs 2.2.4', (bytes) => {
    const b = Buffer.from(bytes);
    const crc = createRequire(import.meta.url)(CRC32C_PATH) as (b: Buffer) => number;
    expect(crc(b)).toBe(original()(b));
  });
});
