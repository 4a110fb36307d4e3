/** Profile API metrics (bounded labels: the route pattern, never the URL; the method; the status class). */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  seconds: Histogram<'route'>;
  refs: Counter<'outcome'>;
}

export function createApiMetrics(service = 'profile-api'): ApiMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'ps_api_requests_total',
      help: 'Requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'ps_api_request_seconds',
      help: 'Time to answer a request, by route pattern',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    refs: new Counter({
      name: 'ps_api_refs_total',
      help: 'Refs resolved, by outcome (found, merged, not_found, invalid)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
