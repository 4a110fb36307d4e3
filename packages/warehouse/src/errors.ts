/** Warehouse errors: a stable `code` (listed in the README's error table), a `retriable` flag and a `cause`. */
export type WarehouseErrorCode =
  | 'migration_failed'
  | 'clickhouse_unavailable'
  | 'not_read_only'
  | 'timestamp_out_of_range'
  | 'value_too_long'
  | 'value_out_of_range';

export class WarehouseError extends Error {
  readonly code: WarehouseErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;
  constructor(code: WarehouseErrorCode, message: string, o: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = 'WarehouseError';
    this.code = code;
    this.retriable = o.retriable ?? false;
    this.details = o.details ?? {};
  }
}
