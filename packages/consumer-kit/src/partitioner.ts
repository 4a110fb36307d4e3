/**
 * kafkajs's DefaultPartitioner (Java-compatible murmur2 of the key, positive, modulo the partitions) with a murmur2 in
 * 32-bit integer arithmetic. kafkajs's runs on 64-bit Long objects (several allocations a multiply) and filters the
 * partition metadata for every message: ~4 % of the segmenter's main thread at 1,000 events/s (its relay produces two
 * membership events an input event). Keys give the same partitions as kafkajs's (a property test compares them), so
 * records keep the partition every other producer of the topic gives them. A message with an explicit partition or
 * without a key goes to kafkajs's own partitioner.
 */
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';
import { kafkajs } from './kafkajs-patch.ts';

const M = 0x5bd1e995;
/** Most keys (profile ids) fit: encoded here without a new Buffer each. */
const scratch = Buffer.alloc(256);

/** Kafka's murmur2 (Utils.murmur2 of the Java client) of a key's bytes (a string: its UTF-8), as a signed 32-bit int. */
export function murmur2(key: Buffer | string): number {
  let data: Buffer;
  let length: number;
  if (Buffer.isBuffer(key)) {
    data = key;
    length = key.length;
  } else if (Buffer.byteLength(key) <= scratch.length) {
    data = scratch;
    length = scratch.write(key);
  } else {
    data = Buffer.from(key);
    length = data.length;
  }
  let h = 0x9747b28c ^ length;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  const tail = length & ~3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partitioner consumer-kit's producers use (producer.ts). */
export const keyPartitioner: ICustomPartitioner = () => {
  const fallback = kafkajs.Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return fallback(args);
    return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
  };
};
