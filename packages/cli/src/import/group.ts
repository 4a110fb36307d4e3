/**
 * Order lines → Purchase events: the lines of one order become one Purchase with its items. Files keep an order's
 * lines together (or nearly: one Online Retail invoice comes back later), so an order stays open until `window` newer
 * orders have started; a line of an order already emitted is rejected, never merged into a second event.
 *
 * Cancellations (order id with the cancel prefix) become `refunded` purchases of their own order id: a C-invoice of
 * Online Retail takes back lines of an earlier invoice whose number it does not carry, so it cannot be a `cancelled`
 * event of that order (which would void the whole order); as a refund it lowers the revenue by what it takes back.
 */
import { createHash } from 'node:crypto';
import type { Purchase } from '@profile-stream/contracts';
import type { ImportSettings } from './mapping.ts';
import type { OrderLine, Rejection } from './rows.ts';

/** Stable across re-imports of the same rows: the stitchers and the warehouse de-duplicate by it. */
export function importEventId(source: string, orderId: string, status: Purchase['status']): string {
  return `import-${createHash('sha256').update(`${source}\u0000${orderId}\u0000${status}`).digest('hex').slice(0, 32)}`;
}

export interface GroupedOrder {
  /** Line number of the order's first line. */
  line: number;
  purchase: Purchase;
}

interface Open {
  first: OrderLine;
  lines: OrderLine[];
}

export class OrderGrouper {
  private readonly open = new Map<string, Open>();
  private readonly done = new Set<string>();
  private readonly s: ImportSettings;
  private readonly window: number;

  constructor(s: ImportSettings, window = 1000) {
    this.s = s;
    this.window = window;
  }

  /** Adds a line; returns the orders that left the window (to be sent) or the line's rejection. */
  add(l: OrderLine): GroupedOrder[] | Rejection {
    const o = this.open.get(l.order);
    if (o) {
      if (o.first.customer !== l.customer)
        return { reason: 'customer_differs_in_order', message: `order ${l.order} belongs to ${o.first.customer} (line ${o.first.line}), not ${l.customer}` };
      o.lines.push(l);
      return [];
    }
    if (this.done.has(l.order))
      return { reason: 'order_already_emitted', message: `order ${l.order} was sent before this line (its lines are more than ${this.window} orders apart)` };
    this.open.set(l.order, { first: l, lines: [l] });
    const out: GroupedOrder[] = [];
    // Map keeps insertion order: the first key is the oldest open order
    for (const [order, oldest] of this.open) {
      if (this.open.size <= this.window) break;
      this.open.delete(order);
      this.done.add(order);
      out.push(this.toPurchase(oldest));
    }
    return out;
  }

  /** The orders still open, at the end of the file. */
  flush(): GroupedOrder[] {
    const out = [...this.open.values()].map((o) => this.toPurchase(o));
    for (const order of this.open.keys()) this.done.add(order);
    this.open.clear();
    return out;
  }

  private toPurchase(o: Open): GroupedOrder {
    const status: Purchase['status'] = o.first.cancellation ? 'refunded' : 'completed';
    let total = 0;
    let at = o.first.occurredAt;
    const items: Purchase['items'] = [];
    for (const l of o.lines) {
      total += l.lineMinor;
      if (l.occurredAt < at) at = l.occurredAt;
      if (l.sku !== null) items.push({ sku: l.sku, category: l.category, quantity: l.quantity, unit_price_minor: l.unitPriceMinor });
    }
    return {
      line: o.first.line,
      purchase: {
        event_id: importEventId(this.s.source, o.first.order, status),
        occurred_at: at,
        anonymous_id: null,
        user_id: `${this.s.userPrefix}${o.first.customer}`,
        account: null,
        email: null,
        phone: null,
        order_id: o.first.order,
        status,
        channel: 'web',
        currency: this.s.currency,
        total_minor: total,
        items,
      },
    };
  }
}
