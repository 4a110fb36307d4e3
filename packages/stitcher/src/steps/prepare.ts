/**
 * decode → validate → normalise identifiers. Pure apart from the registry lookup; anything wrong with the
 * event becomes a DLQ outcome with a reason code (ContractError / ProfileError codes, `no_identifier`).
 */
import { decodeMessageRaw, dlq, type KitMessage, type Outcome } from '@profile-stream/consumer-kit';
import type { ContractsRegistry } from '@profile-stream/contracts';
import { normaliseIdentifiers, requireIdentifier, validateEvent, type EventOf, type NormalisedIds } from '@profile-stream/profile';
import type { InputTopicId } from '../config.ts';
import type { StitcherMetrics } from '../metrics.ts';

export type AnyInputEvent = EventOf<InputTopicId>;

export interface Prepared {
  /** The input topic it came from (a stitcher may consume several: STITCHER_ALSO_TOPICS). */
  topicId: InputTopicId;
  event: AnyInputEvent;
  ids: NormalisedIds;
}

export interface PrepareDeps {
  registry: ContractsRegistry;
  /** The input topics it consumes: Kafka topic name → input topic id. */
  topicIds: ReadonlyMap<string, InputTopicId>;
  defaultRegion: string;
  /** Junk identifier values on top of the default blocklist. */
  blocklist: ReadonlySet<string>;
  maxFutureMs: number;
  /** The loyalty programme's tiers (loyalty events naming another are `unknown_tier`). */
  loyaltyTiers: readonly string[];
  metrics: StitcherMetrics;
  now: () => number;
}

export function prepareStep(d: PrepareDeps): (m: KitMessage) => Promise<Prepared | Outcome> {
  return async (m) => {
    // ContractError → DLQ with its code (raw: the event is only read here and in the fold).
    const topicId = d.topicIds.get(m.topic);
    if (topicId === undefined) throw new Error(`a message of ${m.topic}, which this stitcher does not consume`);
    const { value } = await decodeMessageRaw<AnyInputEvent>(d.registry, m);
    validateEvent(topicId, value as never, { now: d.now(), maxFutureMs: d.maxFutureMs, loyaltyTiers: d.loyaltyTiers }); // ProfileError → DLQ
    const ids = normaliseIdentifiers(value, { defaultRegion: d.defaultRegion, blocklist: d.blocklist });
    for (const x of ids.dropped) d.metrics.identifiersDropped.inc({ field: x.field, reason: x.reason });
    try {
      requireIdentifier(ids);
    } catch (err) {
      return dlq('no_identifier', err instanceof Error ? err.message : String(err));
    }
    return { topicId, event: value, ids };
  };
}

export const isPrepared = (x: Prepared | Outcome): x is Prepared => 'ids' in x;
