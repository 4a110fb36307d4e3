// What a customer does in one session: browse anonymously (first touch on a device's first page view),
// view products of favourite categories, search, fill and sometimes abandon carts, sign up / log in, buy
// on the web or in the app; or buy in a store, by phone or on a marketplace; react to campaign e-mails;
// contact support; change consent.
import { SEARCH_TERMS, SHOP_URL, pickProduct, type Product } from './catalog.ts';
import { chooseBasket, placeOrder } from './commerce.ts';
import { MINUTE, ids, pickDeviceFor, type Customer, type Device, type GeneratorContext } from './customer.ts';
import { emailVariant, phoneVariant } from './identity.ts';
import { deviceOf, emailEngagement, emitConsent, openTicket } from './support.ts';
import type { ClickEvent, ClickType, ConsentPurpose, Draft } from './types.ts';

/** Runs one session that starts at `at`; returns when it ended. */
export function runSession(ctx: GeneratorContext, c: Customer, at: number): number {
  const r = c.rng;
  const wantsToBuy = c.orders < c.orderTarget;
  const reachable = c.emailKnown && c.consent.email === true;
  const kind = r.weighted<string>([
    ['web', 100],
    ['email', reachable ? 35 : 0],
    ['store', wantsToBuy && c.archetype === 'store_regular' ? 120 : wantsToBuy ? 5 : 0],
    ['phone_order', wantsToBuy ? 2 : 0],
    ['marketplace', wantsToBuy ? 4 : 0],
    ['ticket', c.ticketOpenUntil < at ? (c.orders > 0 ? 4 : 0.7) : 0],
    ['consent', c.signedUp ? 2 : 0],
  ]);
  switch (kind) {
    case 'email': {
      const click = emailEngagement(ctx, c, at);
      return click ? webSession(ctx, c, click.at + 2000, { campaign: click.campaign }) : at;
    }
    case 'store':
    case 'phone_order':
    case 'marketplace':
      placeOrder(ctx, c, at, kind === 'phone_order' ? 'phone' : kind, null);
      return at + 10 * MINUTE;
    case 'ticket':
      openTicket(ctx, c, at);
      return at + 10 * MINUTE;
    case 'consent': {
      const purpose = r.pick<ConsentPurpose>(['email', 'sms', 'push', 'personalization', 'analytics']);
      emitConsent(ctx, c, at, purpose, !(c.consent[purpose] ?? false) || r.chance(0.3), pickDeviceFor(c));
      return at + MINUTE;
    }
    default:
      return webSession(ctx, c, at, null);
  }
}

interface SessionCursor {
  t: number;
  device: Device;
  /** Referrer/utm to put on the landing page view, consumed by the first event. */
  landing: (Pick<ClickEvent, 'utm'> & { referrer: string | null }) | null;
}

function click(ctx: GeneratorContext, c: Customer, s: SessionCursor, type: ClickType, extra: Partial<Draft<ClickEvent>> = {}): void {
  s.t += 3000 + Math.floor(c.rng.exp(40_000));
  const landing = s.landing;
  s.landing = null;
  const { page = null, ...rest } = extra;
  ctx.emit(s.t, 'clickstream', c, {
    ...ids({ anonymous_id: s.device.anonymousId, user_id: s.device.loggedIn ? c.id.userId : null }),
    occurred_at: s.t,
    type,
    utm: landing?.utm ?? null,
    device: deviceOf(s.device),
    country: c.id.region.country,
    locale: c.id.region.locale,
    product: null,
    search_query: null,
    consent: null,
    ...rest,
    page: page && landing ? { ...page, referrer: landing.referrer } : page,
  });
}

const productPage = (p: Product): ClickEvent['page'] => ({ url: `${SHOP_URL}/p/${p.sku}`, referrer: null, title: p.title });

function productOf(ctx: GeneratorContext, c: Customer, p: Product): ClickEvent['product'] {
  return { sku: p.sku, category: p.category, price_minor: ctx.catalog.priceIn(p, c.currency), currency: c.currency };
}

/** Sign up (new account) or log in on this device; consent choices follow a signup. */
function authenticate(ctx: GeneratorContext, c: Customer, s: SessionCursor): void {
  if (s.device.loggedIn) return;
  const r = c.rng;
  if (!c.signedUp) {
    c.signedUp = true;
    c.emailKnown = true;
    s.device.loggedIn = true;
    click(ctx, c, s, 'signup', {
      email: emailVariant(c.id.email, r),
      phone: r.chance(0.4) ? phoneVariant(c.id, ctx.defaultRegion, r) : null,
      page: { url: `${SHOP_URL}/account/signup`, referrer: null, title: 'Create account' },
    });
    const choices: [ConsentPurpose, number][] = [
      ['email', 0.6],
      ['analytics', 0.75],
      ['personalization', 0.5],
      ['push', 0.2],
      ['sms', 0.15],
    ];
    for (const [purpose, p] of choices) {
      if (!r.chance(0.8)) continue;
      s.t += 1000;
      emitConsent(ctx, c, s.t, purpose, r.chance(p), s.device);
    }
    return;
  }
  s.device.loggedIn = true;
  click(ctx, c, s, 'login', { page: { url: `${SHOP_URL}/account/login`, referrer: null, title: 'Log in' } });
}

/** A browsing session on one device; may end in a purchase. Returns the end time. */
function webSession(ctx: GeneratorContext, c: Customer, at: number, fromEmail: { campaign: string } | null): number {
  const r = c.rng;
  const device = pickDeviceFor(c);
  const first = device.sessions === 0;
  device.sessions += 1;
  if (device.loggedIn && r.chance(0.05)) device.loggedIn = false; // cookie expired
  const source = first
    ? device.firstTouch
    : fromEmail
      ? { referrer: null, utm: { source: 'newsletter', medium: 'email', campaign: fromEmail.campaign } }
      : r.chance(0.3)
        ? { referrer: 'https://www.google.com/', utm: null }
        : { referrer: null, utm: null };
  const s: SessionCursor = { t: at - 3000, device, landing: source };
  const landingCategory = r.chance(0.7) ? r.pick(c.favourites) : r.pick(ctx.catalog.categories);
  click(ctx, c, s, 'page_view', {
    page: r.chance(0.5)
      ? { url: `${SHOP_URL}/`, referrer: null, title: 'Home' }
      : { url: `${SHOP_URL}/c/${landingCategory}`, referrer: null, title: landingCategory },
  });
  if (c.signedUp && !device.loggedIn && r.chance(0.35)) authenticate(ctx, c, s);

  const viewed: Product[] = [];
  for (let n = 1 + Math.floor(r.exp(3)); n > 0; n--) {
    const category = r.chance(0.75) ? r.pick(c.favourites) : r.pick(ctx.catalog.categories);
    if (r.chance(0.2)) {
      const query = r.pick(SEARCH_TERMS[category] ?? ['gift ideas']);
      click(ctx, c, s, 'search', {
        search_query: r.chance(0.2) ? query.toUpperCase() : query,
        page: { url: `${SHOP_URL}/search?q=${encodeURIComponent(query)}`, referrer: null, title: 'Search' },
      });
    } else if (r.chance(0.25)) {
      click(ctx, c, s, 'page_view', { page: { url: `${SHOP_URL}/c/${category}`, referrer: null, title: category } });
    }
    const product = pickProduct(ctx.catalog, category, r);
    viewed.push(product);
    click(ctx, c, s, 'product_view', { page: productPage(product), product: productOf(ctx, c, product) });
  }

  const wantsToBuy = c.orders < c.orderTarget;
  const buying = wantsToBuy && r.chance(c.archetype === 'loyal' ? 0.45 : 0.3);
  const cartCurious = !buying && r.chance(wantsToBuy ? 0.2 : 0.1);
  if (buying || cartCurious) {
    const basket = r.chance(0.5) ? chooseBasket(ctx, c) : viewed.slice(0, 5);
    for (const p of basket) click(ctx, c, s, 'add_to_cart', { page: productPage(p), product: productOf(ctx, c, p) });
    if (basket.length > 1 && r.chance(0.2)) {
      const removed = basket.splice(r.int(0, basket.length - 1), 1)[0];
      if (removed)
        click(ctx, c, s, 'remove_from_cart', { page: { url: `${SHOP_URL}/cart`, referrer: null, title: 'Basket' }, product: productOf(ctx, c, removed) });
    }
    const checkout = buying || r.chance(0.35);
    if (checkout) {
      click(ctx, c, s, 'checkout_started', { page: { url: `${SHOP_URL}/checkout`, referrer: null, title: 'Checkout' } });
      // at checkout: log in if there is an account, sign up half the time, otherwise check out as a guest
      if (c.signedUp || r.chance(0.5)) authenticate(ctx, c, s);
    }
    if (buying && r.chance(0.88)) {
      // the rest abandon at checkout
      s.t += 20_000 + Math.floor(r.exp(90_000));
      placeOrder(ctx, c, s.t, device.profile.app ? 'app' : 'web', device, basket);
    }
  } else if (!c.signedUp && r.chance(c.archetype === 'browser' ? 0.04 : 0.1)) {
    authenticate(ctx, c, s); // newsletter / wishlist signup without buying
  }
  return s.t;
}
