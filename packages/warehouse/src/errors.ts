/**
 * Warehouse errors: ProfileStreamError (contracts) narrowed to the warehouse's codes; `clickhouse_unavailable` is the
 * retriable one. What each means: the README's "Error codes".
 */
import { ProfileStreamError, type ErrorCode, type ProfileStreamErrorOptions } from '@profile-stream/consumer-kit';

export type WarehouseErrorCode = Extract<
  ErrorCode,
  'migration_failed' | 'clickhouse_unavailable' | 'not_read_only' | 'timestamp_out_of_range' | 'value_too_long' | 'value_out_of_range'
>;

export class WarehouseError extends ProfileStreamError<WarehouseErrorCode> {
  constructor(code: WarehouseErrorCode, message: string, options: ProfileStreamErrorOptions = {}) {
    super(code, message, options);
    this.name = 'WarehouseError';
  }
}
