/** Stitcher metrics (bounded labels: field, reason, outcome). */
import { Counter, type Registry } from 'prom-client';

export interface StitcherMetrics {
  identifiersDropped: Counter<'field' | 'reason'>;
  merges: Counter<'outcome'>;
  folded: Counter<'result'>;
  profilesCreated: Counter;
  /** What erasures published elsewhere took from this process's memory (erasures heard, resolutions, documents). */
  erasuresForgotten: Counter<'what'>;
}

export function createStitcherMetrics(registry: Registry): StitcherMetrics {
  return {
    identifiersDropped: new Counter({
      name: 'ps_identifiers_dropped_total',
      help: 'Identifier values dropped (junk, invalid, over a limit)',
      labelNames: ['field', 'reason'],
      registers: [registry],
    }),
    merges: new Counter({ name: 'ps_profile_merges_total', help: 'Profile merges, by outcome', labelNames: ['outcome'], registers: [registry] }),
    folded: new Counter({ name: 'ps_events_folded_total', help: 'Events folded into profiles, by result', labelNames: ['result'], registers: [registry] }),
    profilesCreated: new Counter({ name: 'ps_profiles_created_total', help: 'New profiles', registers: [registry] }),
    erasuresForgotten: new Counter({
      name: 'ps_stitcher_erasures_forgotten_total',
      help: "Erasures heard on profile-erased, and the cached resolutions and kept documents they took from this process's memory",
      labelNames: ['what'],
      registers: [registry],
    }),
  };
}
