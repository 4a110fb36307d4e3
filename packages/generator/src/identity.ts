// A customer's true identity and the messy ways upstream systems spell it: emails in mixed case with stray
// spaces, phones in national/international formats. Every true email and phone is unique per customer index
// (the index is folded in bijectively), so two generated customers never share an identifier by accident.
import type { Rng } from './prng.ts';

export interface Region {
  country: string;
  locale: string;
  currency: string;
  callingCode: string;
  /** Mobile numbers (national significant part): one of these prefixes followed by `digits` digits. */
  mobilePrefixes: readonly string[];
  digits: number;
  /** National trunk prefix ('0' in GB/DE/FR/IE, '' in US). */
  trunk: string;
  /** Digit groups of the national number as people write it. */
  grouping: readonly number[];
  domains: readonly string[];
}

export const REGIONS: readonly Region[] = [
  {
    country: 'GB',
    locale: 'en-GB',
    currency: 'GBP',
    callingCode: '44',
    mobilePrefixes: ['74', '75', '77', '78', '79'],
    digits: 8,
    trunk: '0',
    grouping: [4, 6],
    domains: ['gmail.com', 'outlook.com', 'yahoo.co.uk', 'btinternet.com', 'hotmail.co.uk', 'icloud.com'],
  },
  {
    country: 'IE',
    locale: 'en-IE',
    currency: 'EUR',
    callingCode: '353',
    mobilePrefixes: ['83', '85', '86', '87', '89'],
    digits: 7,
    trunk: '0',
    grouping: [2, 3, 4],
    domains: ['gmail.com', 'eircom.net', 'outlook.com'],
  },
  {
    country: 'DE',
    locale: 'de-DE',
    currency: 'EUR',
    callingCode: '49',
    mobilePrefixes: ['151', '160', '170', '176'],
    digits: 8,
    trunk: '0',
    grouping: [3, 4, 4],
    domains: ['gmail.com', 'web.de', 'gmx.de', 't-online.de'],
  },
  {
    country: 'FR',
    locale: 'fr-FR',
    currency: 'EUR',
    callingCode: '33',
    mobilePrefixes: ['6'],
    digits: 8,
    trunk: '0',
    grouping: [1, 2, 2, 2, 2],
    domains: ['gmail.com', 'orange.fr', 'free.fr', 'laposte.net'],
  },
  {
    country: 'US',
    locale: 'en-US',
    currency: 'USD',
    callingCode: '1',
    mobilePrefixes: ['2125', '3126', '4157', '6178', '7374'],
    digits: 6,
    trunk: '',
    grouping: [3, 3, 4],
    domains: ['gmail.com', 'yahoo.com', 'outlook.com', 'aol.com', 'icloud.com'],
  },
];

const FIRST = [
  'Alice',
  'Oliver',
  'Amelia',
  'Noah',
  'Isla',
  'Leo',
  'Ava',
  'Arthur',
  'Mia',
  'Muhammad',
  'Grace',
  'Jack',
  'Freya',
  'Harry',
  'Lily',
  'Oscar',
  'Emily',
  'George',
  'Sophia',
  'Liam',
  'Hannah',
  'Lukas',
  'Marie',
  'Jules',
  'Chloé',
  'Sean',
  'Aoife',
  'Priya',
  'Mateo',
  'Zoe',
  'Ethan',
  'Nora',
  'Finn',
  'Emma',
  'Ben',
  'Léa',
  'Max',
  'Sofia',
  'Kai',
  'Ines',
];
const LAST = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Evans',
  'Patel',
  'Khan',
  'Murphy',
  'Kelly',
  "O'Brien",
  'Müller',
  'Schmidt',
  'Schneider',
  'Fischer',
  'Martin',
  'Bernard',
  'Dubois',
  'Moreau',
  'Garcia',
  'Johnson',
  'Miller',
  'Davis',
  'Lopez',
  'Nguyen',
  'Walsh',
  'Byrne',
  'Weber',
  'Lefèvre',
];

export interface TrueIdentity {
  index: number;
  firstName: string;
  lastName: string;
  region: Region;
  /** Normalised (trimmed, lower-case) email. */
  email: string;
  /** E.164. */
  phone: string;
  /** Set when the customer signs up: `u_<index>`. */
  userId: string;
}

/** Bijective scramble of `index` into [0, 10^digits), so phone numbers look random yet never repeat. */
function scramble(index: number, digits: number): number {
  const modulus = 10 ** digits;
  // 7_919_813 is coprime to every power of ten, so i -> (i * p + c) mod 10^d is a permutation
  return Number((BigInt(index) * 7_919_813n + 1_234_567n) % BigInt(modulus));
}

const ascii = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();

export function createIdentity(index: number, rng: Rng, region: Region): TrueIdentity {
  const firstName = rng.pick(FIRST);
  const lastName = rng.pick(LAST);
  const f = ascii(firstName);
  const l = ascii(lastName);
  // every local part ends in the index, in a shape that cannot collide with another shape
  const local = rng.weighted<string>([
    [`${f}.${l}${index}`, 5],
    [`${f}${index}`, 2],
    [`${f[0] ?? 'x'}${l}.${index}`, 3],
    [`${f}_${l}_${index}`, 1],
  ]);
  const email = `${local}@${rng.pick(region.domains)}`;
  const prefix = rng.pick(region.mobilePrefixes);
  const subscriber = String(scramble(index, region.digits)).padStart(region.digits, '0');
  const phone = `+${region.callingCode}${prefix}${subscriber}`;
  return { index, firstName, lastName, region, email, phone, userId: `u_${index}` };
}

/** How an upstream form might spell the email: mixed case, stray spaces, display-style capitals. */
export function emailVariant(email: string, rng: Rng): string {
  const [local = '', domain = ''] = email.split('@');
  const title = (s: string): string => s.replace(/(^|[._])([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
  const spelled = rng.weighted<string>([
    [email, 55],
    [`${title(local)}@${domain}`, 15],
    [`${title(local)}@${title(domain).replace(/\.([a-z]+)$/, (_m, tld: string) => `.${tld.toUpperCase()}`)}`, 10],
    [email.toUpperCase(), 5],
    [`${local}@${domain.toUpperCase()}`, 5],
  ]);
  return rng.weighted<string>([
    [spelled, 80],
    [` ${spelled}`, 5],
    [`${spelled} `, 7],
    [`  ${spelled} `, 8],
  ]);
}

function groups(digits: string, sizes: readonly number[]): string {
  const out: string[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= digits.length) break;
    out.push(digits.slice(at, at + size));
    at += size;
  }
  if (at < digits.length) out.push(digits.slice(at));
  return out.join(' ');
}

/**
 * How an upstream system might spell the phone. National spellings (no calling code) are used only when the
 * customer's country is the pipeline's default region, because only then can they be normalised back to E.164.
 */
export function phoneVariant(id: TrueIdentity, defaultRegion: string, rng: Rng): string {
  const { region } = id;
  const national = id.phone.slice(1 + region.callingCode.length); // subscriber incl. mobile prefix
  const spaced = region.country === 'US' ? `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}` : groups(national, region.grouping);
  const international: readonly (readonly [string, number])[] = [
    [id.phone, 35],
    [`+${region.callingCode} ${spaced}`, 30],
    [`00${region.callingCode} ${spaced}`, 5],
    [`+${region.callingCode} (${region.trunk || '1'})${spaced.replace(/ /g, '-')}`, region.trunk ? 5 : 0],
  ];
  if (region.country !== defaultRegion) return rng.weighted(international);
  const trunk = region.trunk;
  return rng.weighted<string>([
    ...international,
    [`${trunk}${spaced}`, 30],
    [`${trunk}${national}`, 10],
    [trunk ? `(${trunk})${spaced.replace(/ /g, '-')}` : `${national.slice(0, 3)}-${national.slice(3)}`, 8],
  ]);
}

/** Identifier values real systems send that mean "nothing" (DESIGN §4); the pipeline's blocklist must hold them. */
export const JUNK_IDENTIFIERS = ['null', 'undefined', '0', 'unknown', 'test@test.com', 'N/A', ''] as const;
const JUNK_BY_FIELD = {
  anonymous_id: ['null', 'undefined', '0', 'unknown', ''],
  user_id: ['null', 'undefined', '0', 'unknown', 'N/A', ''],
  email: ['test@test.com', 'N/A', 'null', 'unknown', ''],
  phone: ['0', 'N/A', 'unknown', 'null', ''],
} as const;

export function junkValue(field: keyof typeof JUNK_BY_FIELD, rng: Rng): string {
  return rng.pick(JUNK_BY_FIELD[field]);
}

const JUNK_SET: ReadonlySet<string> = new Set(JUNK_IDENTIFIERS.map((j) => j.toLowerCase()));

/** True when the (trimmed, case-insensitive) value is a junk identifier or empty. */
export function isJunk(value: string | null): boolean {
  return value === null || JUNK_SET.has(value.trim().toLowerCase());
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Phone to E.164 for the spellings `phoneVariant` produces (not a general parser: the pipeline uses libphonenumber). */
export function normalisePhone(phone: string, defaultRegion: string): string | null {
  const trimmed = phone.trim();
  let digits = trimmed.replace(/\(0\)/g, '').replace(/\D/g, '');
  if (trimmed.startsWith('+')) return digits ? `+${digits}` : null;
  if (digits.startsWith('00')) return `+${digits.slice(2)}`;
  const region = REGIONS.find((r) => r.country === defaultRegion);
  if (!region) return null;
  if (region.trunk && digits.startsWith(region.trunk)) digits = digits.slice(region.trunk.length);
  return digits ? `+${region.callingCode}${digits}` : null;
}
