/**
 * Four fixes for kafkajs 2.2.4, applied once before consumer-kit's modules load kafkajs: they take kafkajs from here
 * (`kafkajs` below), so the fixes are in place before kafkajs's own modules are, whatever order the imports are in.
 *
 * 1. The request queue (RequestQueue#scheduleCheckPendingRequests).
 *
 * After a connection's first answer, `RequestQueue#scheduleCheckPendingRequests` re-arms itself for ever: with nothing
 * pending and no throttling its delay is `-1 - Date.now()`, which Node turns into 1 ms. So every broker connection of
 * every client runs a timer a millisecond that checks an empty queue (kafkajs issues #1556, #1604, #1704; the fixes
 * are unreleased pull requests, and kafkajs has had no release since 2023). Measured under `bench segments` at 100
 * events/s: the timer was ~4 % of the stitcher's main thread, and with the fix the whole machine went from 94 % to
 * 80 % of a core busy, the bench's observers from 7 % each to 2-4 % (README, *After (issue 12), third round*).
 *
 * The check is needed only while a request waits: one that could not be sent at once (in-flight limit or
 * client-side throttling) is pushed to `pending`, and `push` schedules a check then; an answer or a timeout checks the
 * queue again. So the fixed version schedules only when something is pending: at the end of the throttling, or after
 * kafkajs's own 10 ms when the queue waits on its in-flight limit (as kafkajs does, see #1532).
 */
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/** The parts of kafkajs's RequestQueue (src/network/requestQueue/index.js) the fix reads and writes. */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (not exported). */
const CHECK_PENDING_MS = 10;

function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  if (this.throttleCheckTimeoutId !== null || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_MS,
  );
}

/** kafkajs's RequestQueue class (CommonJS, not in its typings). */
export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  new (options: Record<string, unknown>): RequestQueueInternals;
  prototype: RequestQueueInternals;
};

/** Marks the fixed method (Node's require cache, and so the class, can outlive one load of this module: test runners). */
const FIXED = Symbol.for('profile-stream.kafkajs-request-queue-fix');
const original = RequestQueue.prototype.scheduleCheckPendingRequests as RequestQueueInternals['scheduleCheckPendingRequests'] & { [FIXED]?: true };
/** Whether kafkajs's method is the one this fix replaces (its source names the unconditional re-arm). */
const knownBug = /let scheduleAt = this\.throttledUntil - Date\.now\(\)[\s\S]*setTimeout/.test(original.toString());

/**
 * Replaces the method when it is kafkajs 2.2.4's. Another kafkajs (a fixed or changed queue) is left as it is, and
 * `kafkajsQueueFixed` says so: a test checks it, so an upgrade is reviewed rather than silently patched.
 */
export const kafkajsQueueFixed: boolean = original[FIXED] === true || knownBug;
if (knownBug) RequestQueue.prototype.scheduleCheckPendingRequests = Object.assign(scheduleCheckPendingRequests, { [FIXED]: true as const });

/*
 * 2. Grouping a produce request's messages per partition (src/producer/groupMessagesPerPartition.js). 2.2.4 does it in a
 * reduce that copies the partition's whole array for every message (`[...current, message]`): O(n² / partitions) for a
 * sendBatch of n messages, ~3-4 % of the stitcher's and the segmenter's main thread under `bench segments`.
 * sendMessages.js keeps the function it required when it was loaded, so the replacement goes into Node's require cache
 * before kafkajs's producer modules load: as a new module object, so `module.children` of sendMessages.js tells which
 * function it holds.
 */

/** What sendMessages.js passes (kafkajs's messages and partition metadata are opaque here). */
type GroupArgs<M> = {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner(args: { topic: string; partitionMetadata: unknown[]; message: M }): number;
};

/** The same result as 2.2.4's (partitions asked in message order, messages in order within a partition), in one pass. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  // forEach, as reduce, skips an array's holes
  messages.forEach((message) => {
    const partition = partitioner({ topic, partitionMetadata, message });
    const current = result[partition];
    if (current) current.push(message);
    else result[partition] = [message];
  });
  return result;
}

/**
 * Puts `exports` in Node's require cache as the module at `path`, so kafkajs's modules that require it from then on
 * get it: a new module object, so the `children` of a module that required it tell which one it holds.
 */
function installModule(path: string, exports: unknown): void {
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
}

export const GROUPING_PATH = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
export const SEND_MESSAGES_PATH = require.resolve('kafkajs/src/producer/sendMessages.js');
const LINEAR = Symbol.for('profile-stream.kafkajs-linear-grouping');
type Marked = { [LINEAR]?: true };

/** Which grouping sendMessages.js holds: the module it required, from its module's children (undefined: not loaded yet). */
export function groupingInSendMessages(): 'linear' | 'original' | undefined {
  const sendMessages = require.cache[SEND_MESSAGES_PATH];
  if (!sendMessages) return undefined;
  const grouping = sendMessages.children.find((m) => m.filename === GROUPING_PATH);
  return (grouping?.exports as Marked | undefined)?.[LINEAR] === true ? 'linear' : 'original';
}

/** Whether the installed function is 2.2.4's (its source names the copying reduce). */
const originalGrouping = require(GROUPING_PATH) as Marked;
const knownQuadratic = /messages\.reduce\([\s\S]*Object\.assign\(result, \{ \[partition\]: \[\.\.\.current, message\] \}\)/.test(originalGrouping.toString());
if (originalGrouping[LINEAR] !== true && knownQuadratic) {
  installModule(GROUPING_PATH, Object.assign(groupMessagesPerPartition, { [LINEAR]: true as const }));
}

/**
 * Whether kafkajs's producer groups with the linear function: false for another kafkajs (a test checks the flag, so an
 * upgrade is reviewed), or when kafkajs's producer modules were loaded before this module (sendMessages.js then holds
 * the original for good).
 */
export const kafkajsGroupingFixed: boolean =
  (require.cache[GROUPING_PATH]?.exports as Marked | undefined)?.[LINEAR] === true && groupingInSendMessages() !== 'original';

/*
 * 3. The protocol encoder (src/protocol/encoder.js) that writes every request. 2.2.4 zero-fills each Encoder's buffer
 * (Buffer.alloc: 512 bytes for every record, header and request part, and again at each doubling), and writes each
 * varint through an array and Buffer.from. Under `bench segments --floor` encoding produce requests was ~19 % of a
 * stand-in stitcher's main thread. The replacement allocates without filling (an Encoder only ever exposes the
 * bytes it wrote: `buffer` is `buf` up to `offset`) and writes varints in place; the bytes are the same (tested
 * against the original on random sequences of writes). Installed as encoder.js in Node's require cache before
 * kafkajs's modules load (they require it when they load), as the grouping above.
 */

/** The part of kafkajs's Encoder the replacement touches (the rest is inherited). */
export interface EncoderInternals {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderInternals;
  writeVarInt(value: number): EncoderInternals;
  writeVarLong(value: unknown): EncoderInternals;
}
type EncoderClass = { new (initialSize?: number): EncoderInternals; nextPowerOfTwo(n: number): number; encodeZigZag(n: number): number };

export const ENCODER_PATH = require.resolve('kafkajs/src/protocol/encoder.js');
const UNFILLED = Symbol.for('profile-stream.kafkajs-unfilled-encoder');
const loadedEncoder = require(ENCODER_PATH) as EncoderClass & { [UNFILLED]?: EncoderClass };
/** kafkajs's own Encoder (when a test runner loads this module again, the one under the installed replacement). */
export const OriginalEncoder: EncoderClass = loadedEncoder[UNFILLED] ?? loadedEncoder;
const knownFilling = /Buffer\.alloc\(Encoder\.nextPowerOfTwo\(initialSize\)\)/.test(OriginalEncoder.toString());

export class UnfilledEncoder extends (OriginalEncoder as unknown as new (initialSize?: number) => EncoderInternals) {
  constructor(initialSize = 511) {
    super(0); // a 1-byte buffer, replaced at once
    this.buf = Buffer.allocUnsafe(OriginalEncoder.nextPowerOfTwo(initialSize));
  }

  override ensureAvailable(length: number): void {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(OriginalEncoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
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
Object.assign(UnfilledEncoder, { [UNFILLED]: OriginalEncoder });

if (loadedEncoder[UNFILLED] === undefined && knownFilling) {
  installModule(ENCODER_PATH, UnfilledEncoder);
}

export const RECORD_PATH = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');

/** Which Encoder kafkajs's record encoder holds: the one it required, from its module's children (undefined: not loaded yet). */
export function encoderInRecord(): 'unfilled' | 'original' | undefined {
  const record = require.cache[RECORD_PATH];
  if (!record) return undefined;
  const encoder = record.children.find((m) => m.filename === ENCODER_PATH);
  return (encoder?.exports as { [UNFILLED]?: unknown } | undefined)?.[UNFILLED] !== undefined ? 'unfilled' : 'original';
}

/**
 * Whether kafkajs's modules get the replacement: false for another kafkajs (a test checks the flag, so an upgrade is
 * reviewed), or when kafkajs's protocol modules were loaded before this module.
 */
export const kafkajsEncoderFixed: boolean =
  (require.cache[ENCODER_PATH]?.exports as { [UNFILLED]?: unknown } | undefined)?.[UNFILLED] !== undefined && encoderInRecord() !== 'original';

/*
 * 4. The CRC-32C of every record batch (src/protocol/recordBatch/crc32C): 2.2.4 computes it in JavaScript a byte at
 * a time, ~7 ns a byte here: ~45 % of encoding a produce request once the encoder above is fixed. The replacement is
 * @node-rs/crc32's (SIMD, native; the same package @platformatic/kafka uses) when its binary loads on this platform,
 * else kafkajs's own; the checksum is the same (tested against kafkajs's on random buffers).
 */
export const CRC32C_PATH = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const NATIVE_CRC = Symbol.for('profile-stream.kafkajs-native-crc32c');

function nativeCrc32c(): ((b: Buffer) => number) | undefined {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c(input: Buffer, initial?: number): number };
    return (buffer) => crc32c(buffer) >>> 0;
  } catch {
    return undefined; // no binary for this platform: kafkajs's own
  }
}
const loadedCrc = require(CRC32C_PATH) as ((b: Buffer) => number) & { [NATIVE_CRC]?: true };
const native = loadedCrc[NATIVE_CRC] ? undefined : nativeCrc32c();
if (native !== undefined && /unsigned\(crc32C\(buffer\)\)/.test(loadedCrc.toString())) {
  installModule(CRC32C_PATH, Object.assign(native, { [NATIVE_CRC]: true as const }));
}

/** Whether kafkajs's record batches get the native checksum (false: no binary here, or another kafkajs). */
export const kafkajsCrcNative: boolean = (require.cache[CRC32C_PATH]?.exports as { [NATIVE_CRC]?: true } | undefined)?.[NATIVE_CRC] === true;

/** kafkajs itself, loaded after the fixes: consumer-kit's modules import it from here. */
export const kafkajs = require('kafkajs') as typeof import('kafkajs');
