// The shop the synthetic customers visit: a seeded product catalogue, traffic sources, devices, support topics.
import { createRng, labelHash, type Rng } from './prng.ts';
import type { DeviceType } from './types.ts';

export const SHOP_URL = 'https://shop.example.com';

interface CategorySpec {
  name: string;
  code: string;
  /** Median price in GBP minor units. */
  median: number;
  nouns: readonly string[];
}

const CATEGORY_SPECS: readonly CategorySpec[] = [
  { name: 'electronics', code: 'ELE', median: 8900, nouns: ['headphones', 'charger', 'speaker', 'smartwatch', 'tablet'] },
  { name: 'fashion', code: 'FAS', median: 3500, nouns: ['jacket', 'trainers', 'jeans', 'dress', 'scarf'] },
  { name: 'home', code: 'HOM', median: 2900, nouns: ['lamp', 'cushion', 'rug', 'kettle', 'towel set'] },
  { name: 'beauty', code: 'BEA', median: 1800, nouns: ['serum', 'moisturiser', 'perfume', 'lipstick', 'shampoo'] },
  { name: 'sports', code: 'SPO', median: 4200, nouns: ['yoga mat', 'running shoes', 'dumbbells', 'bike light'] },
  { name: 'books', code: 'BOO', median: 1200, nouns: ['novel', 'cookbook', 'travel guide', 'biography'] },
  { name: 'toys', code: 'TOY', median: 2200, nouns: ['puzzle', 'building set', 'board game', 'plush bear'] },
  { name: 'garden', code: 'GAR', median: 3300, nouns: ['planter', 'hose', 'seed kit', 'garden chair'] },
];

export interface Product {
  sku: string;
  category: string;
  title: string;
  /** Price in GBP minor units; `priceIn` converts. */
  basePrice: number;
}

export interface Catalog {
  categories: readonly string[];
  byCategory: ReadonlyMap<string, readonly Product[]>;
  /** Unit price in `currency` minor units, rounded to a .99 / .00 price point. */
  priceIn(product: Product, currency: string): number;
}

const RATES: Readonly<Record<string, number>> = { GBP: 1, EUR: 1.17, USD: 1.27, SEK: 13.4, CHF: 1.12, PLN: 5.1 };
const ADJECTIVES = ['Classic', 'Pro', 'Eco', 'Mini', 'Deluxe', 'Urban', 'Soft', 'Smart'];

export function createCatalog(seed: number, perCategory = 24): Catalog {
  const rng = createRng(seed, labelHash('catalog'));
  const byCategory = new Map<string, Product[]>();
  for (const spec of CATEGORY_SPECS) {
    const products: Product[] = [];
    for (let i = 0; i < perCategory; i++) {
      const raw = rng.logNormal(spec.median, 0.6);
      const basePrice = Math.max(199, Math.round(raw / 100) * 100 - 1);
      products.push({
        sku: `${spec.code}-${String(1000 + i * 7 + rng.int(0, 6)).padStart(5, '0')}`,
        category: spec.name,
        title: `${rng.pick(ADJECTIVES)} ${rng.pick(spec.nouns)}`,
        basePrice,
      });
    }
    byCategory.set(spec.name, products);
  }
  return {
    categories: CATEGORY_SPECS.map((c) => c.name),
    byCategory,
    priceIn(product, currency) {
      const rate = RATES[currency] ?? 1;
      if (rate === 1) return product.basePrice;
      const units = Math.max(1, Math.round((product.basePrice * rate) / 100));
      return units * 100 - 1;
    },
  };
}

export function pickProduct(catalog: Catalog, category: string, rng: Rng): Product {
  const list = catalog.byCategory.get(category);
  if (!list) throw new RangeError(`unknown category ${category}`);
  return rng.pick(list);
}

/** A first-touch source: referrer plus utm, or direct traffic. */
export interface TrafficSource {
  referrer: string | null;
  utm: { source: string | null; medium: string | null; campaign: string | null } | null;
}

const CAMPAIGNS = ['spring_sale', 'summer_drop', 'back_to_school', 'black_friday', 'xmas_gifts', 'new_in', 'brand_always_on'];

export function pickTrafficSource(rng: Rng): TrafficSource {
  const kind = rng.weighted<string>([
    ['direct', 25],
    ['organic', 25],
    ['cpc', 18],
    ['social', 14],
    ['email', 8],
    ['affiliate', 5],
    ['display', 5],
  ]);
  const campaign = rng.pick(CAMPAIGNS);
  switch (kind) {
    case 'organic':
      return { referrer: rng.pick(['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/']), utm: null };
    case 'cpc':
      return { referrer: 'https://www.google.com/', utm: { source: 'google', medium: 'cpc', campaign } };
    case 'social': {
      const source = rng.pick(['facebook', 'instagram', 'tiktok', 'pinterest']);
      return { referrer: `https://www.${source}.com/`, utm: { source, medium: 'social', campaign } };
    }
    case 'email':
      return { referrer: null, utm: { source: 'newsletter', medium: 'email', campaign } };
    case 'affiliate':
      return { referrer: 'https://www.vouchercodes.example/', utm: { source: 'awin', medium: 'affiliate', campaign: null } };
    case 'display':
      return { referrer: null, utm: { source: 'criteo', medium: 'display', campaign } };
    default:
      return { referrer: null, utm: null };
  }
}

export interface DeviceProfile {
  type: DeviceType;
  os: string | null;
  browser: string | null;
  /** Visits from the shop's app rather than a browser (purchases then come through channel `app`). */
  app: boolean;
}

export function pickDevice(rng: Rng): DeviceProfile {
  const type = rng.weighted<DeviceType>([
    ['mobile', 55],
    ['desktop', 35],
    ['tablet', 8],
    ['other', 2],
  ]);
  switch (type) {
    case 'mobile': {
      const os = rng.weighted<string>([
        ['iOS', 52],
        ['Android', 48],
      ]);
      const app = rng.chance(0.3);
      return { type, os, browser: app ? null : os === 'iOS' ? 'Safari' : rng.pick(['Chrome', 'Samsung Internet']), app };
    }
    case 'tablet':
      return { type, os: rng.pick(['iPadOS', 'Android']), browser: rng.pick(['Safari', 'Chrome']), app: false };
    case 'desktop':
      return {
        type,
        os: rng.weighted<string>([
          ['Windows', 65],
          ['macOS', 28],
          ['Linux', 7],
        ]),
        browser: rng.weighted<string>([
          ['Chrome', 62],
          ['Edge', 14],
          ['Safari', 14],
          ['Firefox', 10],
        ]),
        app: false,
      };
    default:
      return { type, os: rng.chance(0.5) ? 'Tizen' : null, browser: null, app: false };
  }
}

export const SEARCH_TERMS: Readonly<Record<string, readonly string[]>> = {
  electronics: ['wireless headphones', 'usb c charger', 'bluetooth speaker', 'smart watch'],
  fashion: ['rain jacket', 'white trainers', 'slim jeans', 'summer dress'],
  home: ['table lamp', 'cushion covers', 'kettle', 'bath towels'],
  beauty: ['vitamin c serum', 'perfume gift', 'shampoo'],
  sports: ['yoga mat', 'running shoes', 'dumbbells'],
  books: ['cookbook', 'crime novel', 'travel guide'],
  toys: ['lego', 'jigsaw 1000', 'board games'],
  garden: ['planter', 'garden hose', 'seeds'],
};

export const TICKET_TOPICS: readonly (readonly [string, readonly string[]])[] = [
  ['delivery', ['Where is my order?', 'Parcel marked delivered but not received', 'Delivery delayed']],
  ['returns', ['How do I return an item?', 'Refund not received yet', 'Return label missing']],
  ['payment', ['Charged twice', 'Payment declined', 'Voucher code not working']],
  ['product', ['Item arrived damaged', 'Wrong size sent', 'Product stopped working']],
  ['account', ['Cannot log in', 'Change my email address', 'Unsubscribe me']],
];
