/**
 * Every customer's counted orders from the warehouse, in one query over `purchases` (countedOrdersSql: what an order
 * is, packages/warehouse/src/orders.ts, the same definition as the RFM query's and the profile fold's). A customer is
 * a `customer_key` (the purchase's key). packages/predict/src/history.ts turns the orders into the model's inputs.
 */
import { errorMessage, ProfileStreamError } from '@profile-stream/consumer-kit';
import type { OrderPoint } from '@profile-stream/predict';
import { type AnalystClient, countedOrdersSql } from '@profile-stream/warehouse';

interface Row {
  customer_key: string;
  orders: [string | number, string | number, string][];
}

/** customer_key → counted orders up to `asOf`. */
export async function customerOrders(client: AnalystClient['client'], database: string, asOf: number): Promise<Map<string, OrderPoint[]>> {
  let rows: Row[];
  try {
    rows = await (await client.query({ query: countedOrdersSql(database, asOf), format: 'JSONEachRow' })).json<Row>();
  } catch (err) {
    throw new ProfileStreamError('clickhouse_unavailable', `the predict orders query failed: ${errorMessage(err)}`, { cause: err });
  }
  const out = new Map<string, OrderPoint[]>();
  for (const r of rows)
    out.set(
      r.customer_key,
      r.orders.map(([at, net, currency]) => ({ at: Number(at), net_minor: Number(net), currency })),
    );
  return out;
}
