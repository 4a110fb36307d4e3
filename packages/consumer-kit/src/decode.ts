/**
 * The first step of every consumer: Confluent-framed Avro bytes → the plain value, through the registry.
 * Bad bytes throw a non-retriable ContractError whose code becomes the DLQ reason; an unreachable
 * registry throws a retriable one, so the loop waits instead of dead-lettering good events.
 */
import { ContractError, type ContractsRegistry, type DecodedValue } from '@profile-stream/contracts';
import type { KitMessage } from './outcome.ts';

function framed(m: KitMessage): Buffer {
  if (!m.value || m.value.length === 0) {
    throw new ContractError('not_confluent_framed', `empty value at ${m.topic}/${m.partition}@${m.offset}`);
  }
  return m.value;
}

export async function decodeMessage<T>(registry: ContractsRegistry, m: KitMessage): Promise<DecodedValue<T>> {
  return registry.decode<T>(framed(m), { topic: m.topic });
}

/** The same checks without the copy into plain objects (ContractsRegistry.decodeRaw), for hot paths that only read. */
export async function decodeMessageRaw<T>(registry: ContractsRegistry, m: KitMessage): Promise<DecodedValue<T>> {
  return registry.decodeRaw<T>(framed(m), { topic: m.topic });
}
