/**
 * The fixes of kafkajs 2.2.4's request encoding (3 to 5 of kafkajs-patch.ts's list), installed in Node's require
 * cache before kafkajs's protocol modules load (they require them when they load).
 *
 * 3. The protocol encoder (src/protocol/encoder.js) that writes every request. 2.2.4 zero-fills each Encoder's buffer
 * (Buffer.alloc: 512 bytes for every record, header and request part, and again at each doubling), writes each
 * varint through an array and Buffer.from, and copies every part into the part around it: a record's value was copied
 * nine times on its way into a produce request (record, batch body, batch, the batch's bytes, partition, topic,
 * request body, request, framed request), each time into a buffer grown by doubling (and copied again at each
 * doubling). Under `bench segments` at 5,000 events/s that was ~11 % of the purchases stitcher's main thread
 * (allocating and copying its profile changes of a few KiB each), after the first two fixes.
 * The replacement allocates without filling (an Encoder only ever exposes the bytes it wrote), writes varints in
 * place, and gathers instead of copying: a buffer of GATHER_BYTES or more, or another encoder's parts, is appended
 * by reference; small writes go on in the current part. The bytes are joined once, when something asks for the
 * encoder's `buffer` (the connection, before writing the request to its socket). The bytes are the same (tested
 * against the original on random sequences of writes and on whole produce requests).
 *
 * 4. The CRC-32C of every record batch (src/protocol/recordBatch/crc32C): 2.2.4 computes it in JavaScript a byte at
 * a time, ~7 ns a byte here: ~45 % of encoding a produce request once the encoder above is fixed. The replacement is
 * @node-rs/crc32's (SIMD, native; the same package @platformatic/kafka uses) when its binary loads on this platform,
 * else kafkajs's own; the checksum is the same (tested against kafkajs's on random buffers).
 *
 * 5. The record batch (src/protocol/recordBatch/v0): 2.2.4 asks its body for one buffer to checksum it, and the
 * whole batch for one buffer to write it behind its length: two joins of every record. The replacement checksums the
 * body's parts one after another (CRC-32C continues from the last part's value) and writes the batch behind its
 * length as parts, with the native checksum; without it, kafkajs's own module stays.
 */
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Puts `exports` in Node's require cache as the module at `path`, so kafkajs's modules that require it from then on
 * get it: a new module object, so the `children` of a module that required it tell which one it holds.
 */
export function installModule(path: string, exports: unknown): void {
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
}

/** The part of kafkajs's Encoder the replacement touches (the rest is inherited). */
export interface EncoderInternals {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  size(): number;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  writeInt8(value: number): EncoderInternals;
  writeInt16(value: number): EncoderInternals;
  writeInt32(value: number): EncoderInternals;
  writeUInt32(value: number): EncoderInternals;
  writeInt64(value: unknown): EncoderInternals;
  writeArray(value: unknown[], type?: string): EncoderInternals;
  writeUVarInt(value: number): EncoderInternals;
  writeVarInt(value: number): EncoderInternals;
  writeVarLong(value: unknown): EncoderInternals;
  writeBytes(value: unknown): EncoderInternals;
  writeVarIntBytes(value: unknown): EncoderInternals;
  writeUVarIntBytes(value: unknown): EncoderInternals;
  writeEncoder(value: unknown): EncoderInternals;
  writeEncoderArray(value: unknown): EncoderInternals;
}
type EncoderClass = { new (initialSize?: number): EncoderInternals; nextPowerOfTwo(n: number): number; encodeZigZag(n: number): number };

export const ENCODER_PATH = require.resolve('kafkajs/src/protocol/encoder.js');
const FIXED_ENCODER = Symbol.for('profile-stream.kafkajs-gathering-encoder');
const loadedEncoder = require(ENCODER_PATH) as EncoderClass & { [FIXED_ENCODER]?: EncoderClass };
/** kafkajs's own Encoder (when a test runner loads this module again, the one under the installed replacement). */
export const OriginalEncoder: EncoderClass = loadedEncoder[FIXED_ENCODER] ?? loadedEncoder;
const knownEncoder =
  /Buffer\.alloc\(Encoder\.nextPowerOfTwo\(initialSize\)\)/.test(OriginalEncoder.toString()) &&
  /writeBufferInternal\(value\.buffer\)/.test(OriginalEncoder.toString());

/** Buffers at least this long are appended by reference; shorter ones are copied into the current part. */
export const GATHER_BYTES = 512;
/** The least a new part holds when the current one is full (small writes that follow a gathered buffer). */
const PART_BYTES = 1024;

export class GatheringEncoder extends (OriginalEncoder as unknown as new (initialSize?: number) => EncoderInternals) {
  /** The bytes before `buf`: finished parts and gathered buffers, in order (never written again). */
  private parts: Buffer[] = [];
  private partsBytes = 0;

  constructor(initialSize = 511) {
    super(0); // a 1-byte buffer, replaced at once
    this.buf = Buffer.allocUnsafe(OriginalEncoder.nextPowerOfTwo(initialSize));
  }

  /** The current part's bytes become a finished part; the rest of its buffer goes on as the current part. */
  private seal(): void {
    if (this.offset === 0) return;
    this.parts.push(this.buf.subarray(0, this.offset));
    this.partsBytes += this.offset;
    this.buf = this.buf.subarray(this.offset);
    this.offset = 0;
  }

  private gather(b: Buffer): void {
    this.seal();
    this.parts.push(b);
    this.partsBytes += b.length;
  }

  override ensureAvailable(length: number): void {
    if (this.offset + length <= this.buf.length) return;
    this.seal();
    this.buf = Buffer.allocUnsafe(Math.max(PART_BYTES, OriginalEncoder.nextPowerOfTwo(length)));
  }

  override writeBufferInternal(buffer: Buffer): void {
    if (buffer.length < GATHER_BYTES) {
      this.ensureAvailable(buffer.length);
      buffer.copy(this.buf, this.offset, 0);
      this.offset += buffer.length;
    } else this.gather(buffer);
  }

  // 2.2.4 makes room for a buffer before writing its length (ensureAvailable of both): a gathered buffer needs none
  override writeBytes(value: unknown): EncoderInternals {
    if (!Buffer.isBuffer(value)) return super.writeBytes(value);
    this.writeInt32(value.length);
    this.writeBufferInternal(value);
    return this;
  }

  override writeEncoder(value: unknown): EncoderInternals {
    if (!(value instanceof GatheringEncoder)) return super.writeEncoder(value);
    if (value.size() < GATHER_BYTES) this.writeBufferInternal(value.buffer);
    else for (const part of value.chunks()) this.writeBufferInternal(part);
    return this;
  }

  override writeEncoderArray(value: unknown): EncoderInternals {
    if (!Array.isArray(value) || !value.every((v) => v instanceof GatheringEncoder)) return super.writeEncoderArray(value);
    for (const v of value) this.writeEncoder(v);
    return this;
  }

  /** The bytes written, as the parts they are in (no copy). */
  chunks(): Buffer[] {
    return this.offset === 0 ? this.parts : [...this.parts, this.buf.subarray(0, this.offset)];
  }

  override size(): number {
    return this.partsBytes + this.offset;
  }

  /** The bytes written, as one buffer: the parts joined once (then they are one part, and writing goes on after it). */
  override get buffer(): Buffer {
    if (this.parts.length > 0) {
      this.buf = Buffer.concat(this.chunks(), this.size());
      this.offset = this.buf.length;
      this.parts = [];
      this.partsBytes = 0;
    }
    return this.buf.subarray(0, this.offset);
  }

  /** LEB128 of the value's 32 bits, as 2.2.4 writes it (`& 0xffffff80`, `>>>= 7`), in place. */
  override writeUVarInt(value: number): EncoderInternals {
    this.ensureAvailable(5);
    let v = value;
    while ((v & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.offset++] = v & 0x7f;
    return this;
  }

  /** A varlong of a 32-bit integer is its varint (zigzag and LEB128 give the same bytes); the rest as 2.2.4. */
  override writeVarLong(value: unknown): EncoderInternals {
    if (typeof value === 'number' && (value | 0) === value) return this.writeUVarInt(OriginalEncoder.encodeZigZag(value));
    return super.writeVarLong(value);
  }
}
Object.assign(GatheringEncoder, { [FIXED_ENCODER]: OriginalEncoder });

if (loadedEncoder[FIXED_ENCODER] === undefined && knownEncoder) {
  installModule(ENCODER_PATH, GatheringEncoder);
}

export const RECORD_PATH = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');

/** Which Encoder kafkajs's record encoder holds: the one it required, from its module's children (undefined: not loaded yet). */
export function encoderInRecord(): 'gathering' | 'original' | undefined {
  const record = require.cache[RECORD_PATH];
  if (!record) return undefined;
  const encoder = record.children.find((m) => m.filename === ENCODER_PATH);
  return (encoder?.exports as { [FIXED_ENCODER]?: unknown } | undefined)?.[FIXED_ENCODER] !== undefined ? 'gathering' : 'original';
}

/**
 * Whether kafkajs's modules get the replacement: false for another kafkajs (a test checks the flag, so an upgrade is
 * reviewed), or when kafkajs's protocol modules were loaded before this module.
 */
export const kafkajsEncoderFixed: boolean =
  (require.cache[ENCODER_PATH]?.exports as { [FIXED_ENCODER]?: unknown } | undefined)?.[FIXED_ENCODER] !== undefined && encoderInRecord() !== 'original';

export const CRC32C_PATH = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const NATIVE_CRC = Symbol.for('profile-stream.kafkajs-native-crc32c');
type Crc32c = (input: Buffer, initial?: number) => number;

function nativeCrc32c(): Crc32c | undefined {
  try {
    return (require('@node-rs/crc32') as { crc32c: Crc32c }).crc32c;
  } catch {
    return undefined; // no binary for this platform: kafkajs's own
  }
}
const loadedCrc = require(CRC32C_PATH) as ((b: Buffer) => number) & { [NATIVE_CRC]?: Crc32c };
/** The native CRC-32C (continuing from `initial`), or undefined when it is not installed. */
const native = loadedCrc[NATIVE_CRC] ?? nativeCrc32c();
if (loadedCrc[NATIVE_CRC] === undefined && native !== undefined && /unsigned\(crc32C\(buffer\)\)/.test(loadedCrc.toString())) {
  installModule(
    CRC32C_PATH,
    Object.assign((buffer: Buffer) => native(buffer) >>> 0, { [NATIVE_CRC]: native }),
  );
}

/** Whether kafkajs's record batches get the native checksum (false: no binary here, or another kafkajs). */
export const kafkajsCrcNative: boolean = (require.cache[CRC32C_PATH]?.exports as { [NATIVE_CRC]?: Crc32c } | undefined)?.[NATIVE_CRC] !== undefined;

export const RECORD_BATCH_PATH = require.resolve('kafkajs/src/protocol/recordBatch/v0/index.js');
const GATHERED_BATCH = Symbol.for('profile-stream.kafkajs-gathered-record-batch');
type BatchFn = (o: Record<string, unknown>) => Promise<EncoderInternals>;
/** kafkajs's module; once replaced, GATHERED_BATCH holds 2.2.4's RecordBatch. */
type RecordBatchModule = { RecordBatch: BatchFn; MAGIC_BYTE: number; [GATHERED_BATCH]?: BatchFn };
const loadedBatch = require(RECORD_BATCH_PATH) as RecordBatchModule;
/** kafkajs 2.2.4's RecordBatch (what the gathered one falls back to; tests compare the two). */
export const OriginalRecordBatch: BatchFn = loadedBatch[GATHERED_BATCH] ?? loadedBatch.RecordBatch;
const knownBatch = /crc32C\(batchBody\.buffer\)[\s\S]*writeBytes\(batch\.buffer\)/.test(OriginalRecordBatch.toString());

/**
 * 2.2.4's RecordBatch (the same fields in the same order), for uncompressed batches of gathering encoders: the body
 * checksummed part by part, the batch written behind its length as parts. Anything else goes to 2.2.4's.
 */
function recordBatch(original: BatchFn, crc: Crc32c): BatchFn {
  const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown; fromValue(n: number): unknown };
  return async (o) => {
    const records = (o.records ?? []) as unknown[];
    if ((o.compression ?? 0) !== 0 || !records.every((r) => r instanceof GatheringEncoder)) return original(o);
    const attributes = o.transactional ? 16 : 0; // no compression, create-time timestamps, transactional bit
    const body = new GatheringEncoder()
      .writeInt16(attributes)
      .writeInt32((o.lastOffsetDelta as number | undefined) ?? 0)
      .writeInt64(o.firstTimestamp ?? Date.now())
      .writeInt64(o.maxTimestamp ?? Date.now())
      .writeInt64(o.producerId ?? Long.fromValue(-1))
      .writeInt16((o.producerEpoch as number | undefined) ?? 0)
      .writeInt32((o.firstSequence as number | undefined) ?? 0)
      .writeArray(records, 'object') as unknown as GatheringEncoder;
    let sum = 0;
    for (const part of body.chunks()) sum = crc(part, sum);
    const batch = new GatheringEncoder()
      .writeInt32((o.partitionLeaderEpoch as number | undefined) ?? 0)
      .writeInt8(loadedBatch.MAGIC_BYTE)
      .writeUInt32(sum >>> 0)
      .writeEncoder(body);
    return new GatheringEncoder()
      .writeInt64(o.firstOffset ?? Long.fromInt(0))
      .writeInt32(batch.size())
      .writeEncoder(batch);
  };
}

if (loadedBatch[GATHERED_BATCH] === undefined && knownBatch && native !== undefined && kafkajsEncoderFixed) {
  installModule(RECORD_BATCH_PATH, { ...loadedBatch, RecordBatch: recordBatch(OriginalRecordBatch, native), [GATHERED_BATCH]: OriginalRecordBatch });
}

/** Whether kafkajs's produce requests get the gathered record batch (false: no native checksum, or another kafkajs). */
export const kafkajsBatchGathered: boolean = (require.cache[RECORD_BATCH_PATH]?.exports as RecordBatchModule | undefined)?.[GATHERED_BATCH] !== undefined;
