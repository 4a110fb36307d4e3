/** Stitcher metrics (bounded labels: field, reason, outcome). */
import { Counter, type Registry } from 'prom-client';

export interface StitcherMetrics {
  identifiersDropped: Counter<'field' | 'reason'>;
  merges: Counter<'outcome'>;
  folded: Counter<'result'>;
  profilesCreated: Counter;
  /** What erasures published elsewhere took from this process's memory (erasures heard, resolutions, documents). */
  erasuresForgotten: Counter<'what'>;
  /** Rounds of profile folds: where the base came from (known, kept, read, reply) and the script's answer. */
  foldRounds: Counter<'base' | 'result'>;
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
    foldRounds: new Counter({
      name: 'ps_profile_fold_rounds_total',
      help: "Rounds of profile folds, by where the base came from (known: just created, kept: this process's memory, read, reply: a stale round's answer) and the script's answer (written, stale: another writer moved the profile on, moved, busy, dups, erased)",
      labelNames: ['base', 'result'],
      registers: [registry],
    }),
  };
}
