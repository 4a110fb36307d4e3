/** Segmenter metrics (bounded labels: result, kind). */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface SegmenterMetrics {
  changes: Counter<'result'>;
  membershipChanges: Counter;
  evaluateSeconds: Histogram;
  relayed: Counter;
  /** emitted_at − occurred_at of published membership events, by what drove them (event | time). */
  emitLag: Histogram<'kind'>;
  ticks: Counter;
}

export function createSegmenterMetrics(registry: Registry): SegmenterMetrics {
  return {
    changes: new Counter({ name: 'ps_segmenter_changes_total', help: 'profile-changes handled, by result', labelNames: ['result'], registers: [registry] }),
    membershipChanges: new Counter({ name: 'ps_segment_membership_changes_total', help: 'Membership changes written to the outbox', registers: [registry] }),
    evaluateSeconds: new Histogram({
      name: 'ps_segment_evaluate_seconds',
      help: 'Time to evaluate every definition over one profile',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.02],
      registers: [registry],
    }),
    relayed: new Counter({ name: 'ps_segment_events_relayed_total', help: 'Membership events published to Kafka by the relay', registers: [registry] }),
    emitLag: new Histogram({
      name: 'ps_segment_event_emit_lag_seconds',
      help: 'emitted_at - occurred_at of published membership events',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 30, 300],
      registers: [registry],
    }),
    ticks: new Counter({ name: 'ps_segment_ticks_total', help: 'Scheduled re-evaluations handed to the segmenter', registers: [registry] }),
  };
}
