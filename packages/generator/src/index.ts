// Seeded, reproducible synthetic input events for profile-stream (DESIGN §3) with the ground truth to check a
// pipeline against.
//
// Streaming, in bounded memory: one min-heap ordered by (occurred_at, insertion seq) holds, per customer, only a
// "next session" trigger plus the events already scheduled but not yet due (the session being played out and its
// follow-ups: cancellations, refunds, ticket lifecycles). Popping a trigger plays that session (every event it
// schedules is at or after the trigger's time) and pushes the customer's next trigger; popping an event stamps its
// event_id, applies noise and yields it. Memory is O(customers + in-flight follow-ups), independent of the number
// of events, and the output is in non-decreasing occurred_at order across all topics. Each customer draws from
// its own PRNG stream and the noise has its own, so equal options give byte-identical output.
import { ProfileStreamError } from '@profile-stream/contracts/errors';
import { createCatalog } from './catalog.ts';
import { createCustomer, nextSessionAt, type Company, type Customer, type DraftOf, type GeneratorContext } from './customer.ts';
import { MinHeap } from './heap.ts';
import { isJunk, normaliseEmail, normalisePhone, REGIONS } from './identity.ts';
import { runSession } from './journeys.ts';
import { addJunk, corrupt } from './noise.ts';
import { createRng, hash32, labelHash, uuidFor } from './prng.ts';
import { TruthBuilder, type GroundTruth } from './truth.ts';
import { IDENTIFIER_FIELDS, type GeneratedRecord, type Identifiers, type Topic, type TopicValue, type ValidRecord } from './types.ts';

export interface GeneratorOptions {
  seed: number;
  customers: number;
  /** Start of the simulated window, epoch ms. */
  start: number;
  days: number;
  /** Fraction of events carrying a junk identifier value (default 0.01). */
  junkRate?: number;
  /** Fraction of records that must be dead-lettered (default 0.005). */
  malformedRate?: number;
  /** Fraction of valid records sent twice with the same event_id (default 0.002). */
  duplicateRate?: number;
  /** ISO 4217 codes the shop sells in (default GBP, EUR, USD). */
  currencies?: readonly string[];
  /** Region for national phone spellings, as the pipeline's default region (default 'GB'). */
  defaultRegion?: string;
  /** Fraction of customer triples that are the three contacts of one company (default 0.1; B2B accounts). */
  companyShare?: number;
  /** Fraction of buyers who join the loyalty programme at their first order (default 0: no loyalty topic events). */
  loyaltyShare?: number;
}

export type ResolvedOptions = Required<GeneratorOptions>;

/** A bad generator option (code `invalid_options`, see the README's "Error codes"): `option` names it. */
export class GeneratorOptionsError extends ProfileStreamError<'invalid_options'> {
  readonly option: string;
  constructor(option: string, message: string) {
    super('invalid_options', `generator option "${option}": ${message}`);
    this.name = 'GeneratorOptionsError';
    this.option = option;
  }
}

export function resolveOptions(o: GeneratorOptions): ResolvedOptions {
  const check = (name: string, ok: boolean, what: string): void => {
    if (!ok) throw new GeneratorOptionsError(name, what);
  };
  const rate = (name: string, v: number): void => check(name, Number.isFinite(v) && v >= 0 && v <= 1, 'must be in [0, 1]');
  const r: ResolvedOptions = {
    junkRate: 0.01,
    malformedRate: 0.005,
    duplicateRate: 0.002,
    currencies: ['GBP', 'EUR', 'USD'],
    defaultRegion: 'GB',
    companyShare: 0.1,
    loyaltyShare: 0,
    ...o,
  };
  check('seed', Number.isSafeInteger(r.seed), 'must be a safe integer');
  check('customers', Number.isInteger(r.customers) && r.customers >= 0 && r.customers <= 1_000_000, 'must be an integer in [0, 1e6]');
  check('start', Number.isFinite(r.start), 'must be epoch milliseconds');
  check('days', Number.isFinite(r.days) && r.days > 0, 'must be > 0');
  rate('junkRate', r.junkRate);
  rate('malformedRate', r.malformedRate);
  rate('duplicateRate', r.duplicateRate);
  rate('companyShare', r.companyShare);
  rate('loyaltyShare', r.loyaltyShare);
  check('currencies', r.currencies.length > 0 && r.currencies.every((c) => /^[A-Z]{3}$/.test(c)), 'must be ISO 4217 codes');
  check(
    'defaultRegion',
    REGIONS.some((g) => g.country === r.defaultRegion),
    `must be one of ${REGIONS.map((g) => g.country).join(', ')}`,
  );
  return r;
}

/**
 * The Kafka key: clickstream by user_id, else anonymous_id; purchases and support-tickets by the customer key
 * (user_id, else normalised email, else E.164 phone). Junk values are skipped; when no preferred identifier is
 * usable the next usable one is taken, and null means no usable identifier at all.
 */
export function recordKey(topic: Topic, v: Identifiers, defaultRegion: string): string | null {
  const user = isJunk(v.user_id) ? null : (v.user_id as string).trim();
  const anon = isJunk(v.anonymous_id) ? null : (v.anonymous_id as string).trim();
  const email = isJunk(v.email) ? null : normaliseEmail(v.email as string);
  const phone = isJunk(v.phone) ? null : normalisePhone(v.phone as string, defaultRegion);
  return topic === 'clickstream' ? (user ?? anon ?? email ?? phone) : (user ?? email ?? phone ?? anon);
}

interface Entry {
  at: number;
  seq: number;
  customer: Customer;
  event?: { topic: Topic; draft: DraftOf[Topic] };
}

export interface GeneratorRun {
  /** Records in non-decreasing occurred_at order; returns the ground truth when exhausted. */
  records: Generator<GeneratedRecord, GroundTruth, undefined>;
  /** Ground truth of everything yielded so far (complete once `records` is exhausted). */
  truth(): GroundTruth;
}

export function createGenerator(options: GeneratorOptions): GeneratorRun {
  const opts = resolveOptions(options);
  const end = opts.start + opts.days * 86_400_000;
  const heap = new MinHeap<Entry>();
  let seq = 0;
  let now = opts.start;
  const ctx: GeneratorContext = {
    seed: opts.seed,
    start: opts.start,
    end,
    catalog: createCatalog(opts.seed),
    defaultRegion: opts.defaultRegion,
    currencies: opts.currencies,
    companyShare: opts.companyShare,
    loyaltyShare: opts.loyaltyShare,
    emit: (at, topic, customer, draft) => {
      if (at < now) throw new Error(`generator bug: event at ${at} scheduled before the clock ${now}`);
      if (at < end) heap.push({ at, seq: seq++, customer, event: { topic, draft } });
    },
  };
  const customers: Customer[] = [];
  for (let i = 0; i < opts.customers; i++) {
    const c = createCustomer(ctx, i);
    customers.push(c);
    const first = Math.floor(c.activeFrom);
    if (first < end) heap.push({ at: first, seq: seq++, customer: c });
  }
  const truth = new TruthBuilder(opts.customers, opts.defaultRegion, (i) => {
    const c = customers[i];
    return { country: c?.id.region.country ?? '', archetype: c?.archetype ?? '' };
  });
  const noise = createRng(opts.seed, labelHash('noise'));
  const idStream = hash32(opts.seed, labelHash('event_id'));
  let counter = 0;

  function* run(): Generator<GeneratedRecord, GroundTruth, undefined> {
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
      now = entry.at;
      const c = entry.customer;
      if (!entry.event) {
        const ended = runSession(ctx, c, entry.at);
        const next = nextSessionAt(ctx, c, Math.max(ended, entry.at));
        if (next !== null) heap.push({ at: next, seq: seq++, customer: c });
        continue;
      }
      const { topic, draft } = entry.event;
      // loyalty events have no account (LoyaltyEvent.avsc)
      const account = topic === 'loyalty' ? {} : { account: accountOn(topic, draft.user_id, c.company) };
      const value = { event_id: uuidFor(idStream, counter++), ...draft, ...account } as TopicValue[Topic];
      if (noise.chance(opts.malformedRate)) {
        const key = recordKey(topic, value, opts.defaultRegion);
        const { raw, reason } = corrupt(topic, value, noise);
        truth.malformed(topic, reason);
        yield { topic, key: reason === 'no_usable_identifier' ? null : key, raw, malformed: reason };
        continue;
      }
      const junk = noise.chance(opts.junkRate) ? addJunk(value, noise) : null;
      const record = { topic, key: recordKey(topic, value, opts.defaultRegion), value } as ValidRecord;
      truth.valid(c.id.index, record, junk === null ? 0 : 1);
      yield record;
      if (noise.chance(opts.duplicateRate)) {
        truth.duplicate(topic);
        yield record;
      }
    }
    return truth.build();
  }
  return { records: run(), truth: () => truth.build() };
}

/** A company contact's events carry the account; signed-in clicks know only its id, orders and tickets its name and domain too. */
function accountOn(topic: Topic, userId: string | null, company: Company | null): TopicValue['purchases']['account'] {
  if (company === null) return null;
  if (topic !== 'clickstream') return { ...company };
  // an anonymous visitor's company is not known: only signed-in clicks name it
  return userId === null ? null : { account_id: company.account_id, name: null, domain: null };
}

/** Yields the records of `createGenerator(options)`; the generator's return value is the ground truth. */
export function generate(options: GeneratorOptions): Generator<GeneratedRecord, GroundTruth, undefined> {
  return createGenerator(options).records;
}

/** Runs the whole generation and returns only its ground truth (streams; nothing is kept). */
export function groundTruth(options: GeneratorOptions): GroundTruth {
  const gen = generate(options);
  for (;;) {
    const step = gen.next();
    if (step.done) return step.value;
  }
}

/** One JSON line (without the newline) for a valid record's value; the raw string for a malformed one. */
export function toJsonl(record: GeneratedRecord): string {
  return 'malformed' in record ? record.raw : JSON.stringify(record.value);
}

/** True when at least one identifier of the event is usable (not null, empty or junk). */
export function hasUsableIdentifier(v: Identifiers): boolean {
  return IDENTIFIER_FIELDS.some((f) => !isJunk(v[f]));
}

export { isJunk, JUNK_IDENTIFIERS, normaliseEmail, normalisePhone } from './identity.ts';
export { identifierKeys, type CustomerTruth, type GroundTruth } from './truth.ts';
export * from './types.ts';
export { identitySoak, type IdentitySoak, type IdentitySoakOptions } from './identity-soak.ts';
export { companyOf, CONTACTS_PER_COMPANY, type Company } from './customer.ts';
