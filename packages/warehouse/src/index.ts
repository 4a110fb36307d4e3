export { loadWarehouseConfig, WAREHOUSE_SETTINGS, type WarehouseConfig } from './config.ts';
export { startWarehouse, openWarehouseDb, type RunningWarehouse, type WarehouseDeps } from './build-service.ts';
export { migrate, loadMigrations, statements, applyClickstreamTtl } from './migrations.ts';
export { BatchSink, insertRows, isDataError, type Entry } from './sink.ts';
export { warehouseHandler, toEntry, WAREHOUSE_TOPICS } from './handler.ts';
export {
  clickRows,
  purchaseRows,
  ticketRows,
  loyaltyRows,
  membershipRows,
  mergeRows,
  profileRows,
  TABLES,
  type Row,
  type TableName,
  type TableRows,
  type RowOptions,
} from './rows.ts';
export { identifierHash, piiStorer, tombstoner, type IdentifierType, type PiiMode } from './pii.ts';
export { assertReadOnly, clickHouseHttp } from './query.ts';
export { openAnalystClient, type AnalystClient } from './analyst.ts';
export { ANALYST_QUERIES, analystSql, type AnalystQuery } from './queries.ts';
export { WarehouseError, type WarehouseErrorCode } from './errors.ts';
export { countedOrdersCtes, countedOrdersSql } from './orders.ts';
export {
  computeRfmVersion,
  describeRfmResult,
  populationQuintiles,
  rfmQuintilesSql,
  startRfmSchedule,
  type RfmComputeOptions,
  type RfmComputeResult,
  type RfmSchedule,
} from './rfm.ts';
