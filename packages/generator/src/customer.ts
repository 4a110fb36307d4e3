// One synthetic customer: true identity, devices, tastes, how much they will buy and how their activity decays.
// Every customer draws from its own PRNG stream (seed, customer index), so a customer's journey does not depend
// on how the merged stream interleaves it with others.
import { pickDevice, pickTrafficSource, type Catalog, type DeviceProfile, type TrafficSource } from './catalog.ts';
import { createIdentity, REGIONS, type Region, type TrueIdentity } from './identity.ts';
import { createRng, hash32, labelHash, uuidFor, type Rng } from './prng.ts';
import type { ClickEvent, ConsentPurpose, Draft, Identifiers, LoyaltyEvent, Purchase, SupportTicket, Topic } from './types.ts';
import type { LoyaltyMember } from './loyalty.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

export type Archetype = 'browser' | 'one_time' | 'occasional' | 'loyal' | 'store_regular';

export interface Device {
  anonymousId: string;
  profile: DeviceProfile;
  firstTouch: TrafficSource;
  sessions: number;
  loggedIn: boolean;
}

export interface Customer {
  id: TrueIdentity;
  rng: Rng;
  archetype: Archetype;
  devices: Device[];
  favourites: string[];
  currency: string;
  /** Has an account (user_id exists from the signup event on). */
  signedUp: boolean;
  /** The shop knows the email (signup, guest checkout, ticket) and may send campaigns if consented. */
  emailKnown: boolean;
  consent: Partial<Record<ConsentPurpose, boolean>>;
  /** The company the customer buys for (B2B contact), or null (a consumer). */
  company: Company | null;
  /** The loyalty membership (loyalty.ts): undefined until the first completed order decides it, null = not a member. */
  loyalty?: LoyaltyMember | null;
  orderTarget: number;
  orders: number;
  ticketCount: number;
  ticketOpenUntil: number;
  /** Base sessions per day and the decay of that rate (time constant in ms; Infinity = no decay). */
  rate: number;
  decayTau: number;
  activeFrom: number;
  activeUntil: number;
}

export interface GeneratorContext {
  seed: number;
  start: number;
  end: number;
  catalog: Catalog;
  defaultRegion: string;
  /** Currencies the shop sells in; a customer's home currency is used when the shop sells in it. */
  currencies: readonly string[];
  /** Fraction of three-customer blocks that are a company's contacts (B2B accounts on their events). */
  companyShare: number;
  /** Fraction of buyers who join the loyalty programme at their first order (0 = no loyalty events). */
  loyaltyShare: number;
  /** Schedule an event (already carrying its identifiers) at `at`; events after the window are dropped. */
  emit: <T extends Topic>(at: number, topic: T, customer: Customer, draft: DraftOf[T]) => void;
}

export interface DraftOf {
  clickstream: Draft<ClickEvent>;
  purchases: Draft<Purchase>;
  'support-tickets': Draft<SupportTicket>;
  loyalty: Draft<LoyaltyEvent>;
}

/** A B2B account as producers send it on events (account_id; name and domain when the system knows them). */
export interface Company {
  account_id: string;
  name: string;
  domain: string;
}

export const CONTACTS_PER_COMPANY = 3;
const COMPANY_WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka'];

/**
 * Customers come in blocks of three consecutive indexes; a block is a company's three contacts with probability
 * companyShare. Drawn from its own stream so that adding companies changes no customer's journey.
 */
export function companyOf(ctx: Pick<GeneratorContext, 'seed' | 'companyShare'>, index: number): Company | null {
  const block = Math.floor(index / CONTACTS_PER_COMPANY);
  const rng = createRng(ctx.seed, labelHash('company'), block);
  if (!rng.chance(ctx.companyShare)) return null;
  const word = rng.pick(COMPANY_WORDS);
  const id = block.toString(36);
  return { account_id: `acct_${id}`, name: `${word} ${id.toUpperCase()} Ltd`, domain: `${word.toLowerCase()}-${id}.example` };
}

const REGION_WEIGHTS: Readonly<Record<string, number>> = { GB: 55, IE: 8, DE: 14, FR: 10, US: 13 };

function pickRegion(rng: Rng, defaultRegion: string): Region {
  // the shop is based in the default region: most of its customers live there
  return rng.weighted(REGIONS.map((r) => [r, r.country === defaultRegion ? 60 : (REGION_WEIGHTS[r.country] ?? 5)] as const));
}

export function createCustomer(ctx: GeneratorContext, index: number): Customer {
  const rng = createRng(ctx.seed, labelHash('customer'), index);
  const region = pickRegion(rng, ctx.defaultRegion);
  const id = createIdentity(index, rng, region);
  const archetype = rng.weighted<Archetype>([
    ['browser', 45],
    ['one_time', 22],
    ['occasional', 18],
    ['loyal', 10],
    ['store_regular', 5],
  ]);
  const deviceCount = rng.weighted<number>([
    [1, 60],
    [2, 30],
    [3, 10],
  ]);
  const anonStream = hash32(ctx.seed, labelHash('anonymous_id'));
  const devices: Device[] = [];
  for (let d = 0; d < deviceCount; d++) {
    devices.push({
      anonymousId: uuidFor(anonStream, index * 4 + d),
      profile: pickDevice(rng),
      firstTouch: pickTrafficSource(rng),
      sessions: 0,
      loggedIn: false,
    });
  }
  const cats = [...ctx.catalog.categories];
  const favourites: string[] = [];
  for (let i = rng.int(1, 3); i > 0 && cats.length > 0; i--) favourites.push(...cats.splice(rng.int(0, cats.length - 1), 1));
  const currency = ctx.currencies.includes(region.currency) ? region.currency : (ctx.currencies[0] ?? 'GBP');
  const orderTarget = { browser: 0, one_time: 1, occasional: rng.int(2, 4), loyal: rng.int(5, 25), store_regular: rng.int(2, 8) }[archetype];
  const baseRate = { browser: 0.12, one_time: 0.15, occasional: 0.2, loyal: 0.45, store_regular: 0.12 }[archetype];
  const span = ctx.end - ctx.start;
  // a third of the customers already exist when the window opens, the rest are acquired during it
  const activeFrom = rng.chance(0.33) ? ctx.start + rng.exp(2 * DAY) : ctx.start + rng.next() * span * 0.9;
  // some lapse: activity decays (dormant customers) or stops outright (churned)
  const decayTau = rng.chance(0.35) ? rng.int(7, 60) * DAY : Infinity;
  const activeUntil = rng.chance(0.2) ? activeFrom + rng.exp(span / 3) : Infinity;
  return {
    id,
    rng,
    archetype,
    devices,
    favourites,
    currency,
    signedUp: false,
    emailKnown: false,
    consent: {},
    company: companyOf(ctx, index),
    orderTarget,
    orders: 0,
    ticketCount: 0,
    ticketOpenUntil: 0,
    rate: rng.logNormal(baseRate, 0.5),
    decayTau,
    activeFrom,
    activeUntil,
  };
}

/** When the next session starts after `after`, or null when the customer has gone quiet for good. */
export function nextSessionAt(ctx: GeneratorContext, c: Customer, after: number): number | null {
  // thinning of a decaying Poisson process: draw at the base rate, accept with the decay factor
  let t = after;
  for (let tries = 0; tries < 64; tries++) {
    t += c.rng.exp(DAY / c.rate);
    if (t >= ctx.end || t >= c.activeUntil) return null;
    const factor = Number.isFinite(c.decayTau) ? Math.exp(-(t - c.activeFrom) / c.decayTau) : 1;
    if (factor < 0.02) return null;
    if (c.rng.next() < factor) return Math.floor(t);
  }
  return null;
}

/** Identifier block for an event: every field present, null when not sent. */
export function ids(parts: Partial<Identifiers>): Identifiers {
  return { anonymous_id: parts.anonymous_id ?? null, user_id: parts.user_id ?? null, email: parts.email ?? null, phone: parts.phone ?? null };
}

/** Primary device most of the time, another one sometimes. */
export function pickDeviceFor(c: Customer): Device {
  const primary = c.devices[0];
  if (!primary) throw new Error('customer without devices');
  return c.devices.length === 1 || c.rng.chance(0.65) ? primary : c.rng.pick(c.devices);
}
