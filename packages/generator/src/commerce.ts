// Orders and what happens to them afterwards: cancellations within hours, full or partial refunds within weeks
// (each carries the positive amount it takes back, under the original order_id), and the odd ticket about it.
import { pickProduct, type Product } from './catalog.ts';
import { DAY, HOUR, MINUTE, ids, type Customer, type Device, type GeneratorContext } from './customer.ts';
import { emailVariant, phoneVariant } from './identity.ts';
import { loyaltyOnOrder } from './loyalty.ts';
import { openTicket } from './support.ts';
import type { Identifiers, PurchaseChannel, PurchaseItem } from './types.ts';

/** 1–5 distinct products, mostly from the customer's favourite categories. */
export function chooseBasket(ctx: GeneratorContext, c: Customer): Product[] {
  const size = c.rng.weighted<number>([
    [1, 45],
    [2, 25],
    [3, 15],
    [4, 9],
    [5, 6],
  ]);
  const basket: Product[] = [];
  for (let tries = 0; basket.length < size && tries < 20; tries++) {
    const category = c.rng.chance(0.8) ? c.rng.pick(c.favourites) : c.rng.pick(ctx.catalog.categories);
    const product = pickProduct(ctx.catalog, category, c.rng);
    if (!basket.some((p) => p.sku === product.sku)) basket.push(product);
  }
  return basket;
}

function toItems(ctx: GeneratorContext, c: Customer, basket: readonly Product[], currency: string): PurchaseItem[] {
  return basket.map((p) => ({
    sku: p.sku,
    category: c.rng.chance(0.97) ? p.category : null,
    quantity: c.rng.weighted<number>([
      [1, 80],
      [2, 15],
      [3, 5],
    ]),
    unit_price_minor: ctx.catalog.priceIn(p, currency),
  }));
}

export const totalOf = (items: readonly PurchaseItem[]): number => items.reduce((sum, item) => sum + item.quantity * item.unit_price_minor, 0);

/** The identifiers a back-office system attaches to an order placed on `channel`. */
function orderIdentifiers(ctx: GeneratorContext, c: Customer, channel: PurchaseChannel, device: Device | null): Identifiers {
  const r = c.rng;
  const email = emailVariant(c.id.email, r);
  const phone = phoneVariant(c.id, ctx.defaultRegion, r);
  const userId = c.signedUp ? c.id.userId : null;
  switch (channel) {
    case 'web':
    case 'app':
      return ids({
        user_id: userId,
        email: userId && r.chance(0.3) ? null : email,
        phone: r.chance(0.3) ? phone : null,
        // the checkout carries the cookie id for guests, and sometimes for members
        anonymous_id: device && (!userId || r.chance(0.25)) ? device.anonymousId : null,
      });
    case 'store': // loyalty lookup by phone, e-receipt by email, or the app's loyalty card
      return r.weighted<Identifiers>([
        [ids({ phone }), 45],
        [ids({ email }), 30],
        [ids({ user_id: userId, phone: userId ? null : phone }), 25],
      ]);
    case 'phone':
      return ids({ phone, user_id: r.chance(0.4) ? userId : null, email: r.chance(0.3) ? email : null });
    case 'marketplace':
      return ids({ email });
  }
}

/** Place an order now and schedule its cancellation or refund. Returns the order id. */
export function placeOrder(
  ctx: GeneratorContext,
  c: Customer,
  at: number,
  channel: PurchaseChannel,
  device: Device | null,
  basket: readonly Product[] = chooseBasket(ctx, c),
): string {
  const r = c.rng;
  c.orders += 1;
  const orderId = `ord_${c.id.index.toString(36)}_${c.orders.toString(36).padStart(3, '0')}`;
  // marketplace and a few cross-border orders settle in another currency the shop sells in
  const foreign = ctx.currencies.filter((cur) => cur !== c.currency);
  const currency = foreign.length > 0 && (channel === 'marketplace' ? r.chance(0.4) : r.chance(0.03)) ? r.pick(foreign) : c.currency;
  const items = toItems(ctx, c, basket, currency);
  const identifiers = orderIdentifiers(ctx, c, channel, device);
  if (identifiers.email) c.emailKnown = true;
  const order = { ...identifiers, order_id: orderId, channel, currency };
  ctx.emit(at, 'purchases', c, { ...order, occurred_at: at, status: 'completed', total_minor: totalOf(items), items });
  loyaltyOnOrder(ctx, c, at, identifiers, orderId, totalOf(items));

  if (r.chance(0.03)) {
    const when = at + MINUTE * 10 + Math.floor(r.next() * 6 * HOUR);
    ctx.emit(when, 'purchases', c, { ...order, occurred_at: when, status: 'cancelled', total_minor: totalOf(items), items });
  } else if (r.chance(0.08)) {
    const when = at + 3 * DAY + Math.floor(r.next() * 22 * DAY);
    // partial refunds take back one line (possibly fewer units of it)
    const partial = items.length > 1 || (items[0]?.quantity ?? 1) > 1 ? r.chance(0.5) : false;
    let back = items;
    if (partial) {
      const line = r.pick(items);
      back = [{ ...line, quantity: r.int(1, line.quantity) }];
    }
    if (r.chance(0.35)) openTicket(ctx, c, when - Math.floor(r.next() * 2 * DAY), 'returns');
    ctx.emit(when, 'purchases', c, { ...order, occurred_at: when, status: 'refunded', total_minor: totalOf(back), items: back });
  } else if (r.chance(0.04)) {
    openTicket(ctx, c, at + Math.floor(r.exp(4 * DAY)), r.pick(['delivery', 'product', 'payment']));
  }
  return orderId;
}
