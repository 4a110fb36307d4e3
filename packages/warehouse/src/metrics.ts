/** Warehouse metrics (bounded labels: table). */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface WarehouseMetrics {
  rows: Counter<'table'>;
  duplicates: Counter<'table'>;
  erasures: Counter;
  flushSeconds: Histogram;
}

export function createWarehouseMetrics(registry: Registry): WarehouseMetrics {
  return {
    rows: new Counter({ name: 'ps_warehouse_rows_total', help: 'Rows inserted into ClickHouse, by table', labelNames: ['table'], registers: [registry] }),
    duplicates: new Counter({
      name: 'ps_warehouse_duplicates_total',
      help: 'Rows left out because their event id was already stored',
      labelNames: ['table'],
      registers: [registry],
    }),
    erasures: new Counter({ name: 'ps_warehouse_erasures_total', help: 'Profiles erased from the warehouse', registers: [registry] }),
    flushSeconds: new Histogram({
      name: 'ps_warehouse_flush_seconds',
      help: 'Time to de-duplicate and insert one batch',
      registers: [registry],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
  };
}
