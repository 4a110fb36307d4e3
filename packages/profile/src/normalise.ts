// Identifier normalisation (DESIGN §4): the only way identifiers enter matching. Pure; every value that is dropped
// is reported with a bounded, PII-free `value_kind` so that the service can count it in a metric.
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { ProfileError } from './errors.ts';
import { boundedMemo } from './memo.ts';

export const IDENTIFIER_FIELDS = ['user_id', 'email', 'phone', 'anonymous_id'] as const;
export type IdentifierField = (typeof IDENTIFIER_FIELDS)[number];

/** The identifier fields every input event carries (each nullable). */
export type IdentifierFields = { readonly [F in IdentifierField]: string | null };

/** Values that mean "nothing" (compared case-insensitively after trimming). */
export const DEFAULT_JUNK_BLOCKLIST: ReadonlySet<string> = new Set([
  'null',
  'undefined',
  '0',
  'unknown',
  'n/a',
  'none',
  'test@test.com',
  'test',
  '-',
  'anonymous',
]);

export type DropReason = 'junk' | 'invalid_email' | 'invalid_phone' | 'empty';

export interface DroppedIdentifier {
  field: IdentifierField;
  /**
   * What the value looked like, never the value itself: 'blank' (empty or whitespace), the default-blocklist token
   * it matched ('n/a', 'null', …), 'blocklisted' (a configured blocklist entry) or 'malformed'.
   */
  value_kind: string;
  reason: DropReason;
}

export interface NormalisedIds {
  user_id?: string;
  email?: string;
  /** E.164. */
  phone?: string;
  anonymous_id?: string;
  dropped: DroppedIdentifier[];
}

export interface NormaliseOptions {
  /** ISO 3166-1 alpha-2 region for national phone spellings (e.g. 'GB'). */
  defaultRegion: string;
  /** Extra junk values, matched case-insensitively after trimming, in addition to DEFAULT_JUNK_BLOCKLIST. */
  blocklist: ReadonlySet<string>;
}

// A pragmatic shape check: one @, a non-empty local part, a dotted domain, no whitespace or brackets.
const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]{2,}$/;

const lowerCache = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

function lowered(blocklist: ReadonlySet<string>): ReadonlySet<string> {
  let l = lowerCache.get(blocklist);
  if (l === undefined) {
    l = new Set([...blocklist].map((v) => v.trim().toLowerCase()));
    lowerCache.set(blocklist, l);
  }
  return l;
}

function junkKind(trimmed: string, blocklist: ReadonlySet<string>): string | undefined {
  const key = trimmed.toLowerCase();
  if (DEFAULT_JUNK_BLOCKLIST.has(key)) return key;
  if (lowered(blocklist).has(key)) return 'blocklisted';
  return undefined;
}

/** How many phone spellings normalisePhone's memo holds at most (a customer's phone repeats on their events). */
export const PHONE_MEMO_SIZE = 10_000;

const parsePhone = (raw: string, defaultRegion: string): string | undefined => {
  const parsed = parsePhoneNumberFromString(raw, defaultRegion as CountryCode);
  return parsed?.isPossible() ? parsed.number : undefined;
};

// The memo of normalisePhone, for one default region at a time (a process has one; another region starts afresh).
// Safe to share across callers: the result is a pure function of (raw, defaultRegion), a string or undefined.
let phoneMemo: { region: string; phone: ((raw: string) => string | undefined) & { readonly size: number } } | undefined;

/**
 * Forgets every phone spelling normalisePhone has kept (its memo holds raw phone numbers as customers typed them): a
 * customer erased elsewhere leaves this process's memory. The memo refills from the events that follow.
 */
export function forgetPhoneSpellings(): void {
  phoneMemo = undefined;
}

/** How many phone spellings normalisePhone holds (tests, metrics). */
export function phoneSpellingsKept(): number {
  return phoneMemo?.phone.size ?? 0;
}

/** Phone to E.164: numbers libphonenumber-js can place in a region with a possible length for it. */
export function normalisePhone(raw: string, defaultRegion: string): string | undefined {
  let memo = phoneMemo;
  if (memo?.region !== defaultRegion) {
    memo = { region: defaultRegion, phone: boundedMemo(PHONE_MEMO_SIZE, (r: string) => parsePhone(r, defaultRegion)) };
    phoneMemo = memo;
  }
  return memo.phone(raw);
}

export function normaliseIdentifiers(event: IdentifierFields, options: NormaliseOptions): NormalisedIds {
  if (!isSupportedCountry(options.defaultRegion)) {
    throw new ProfileError('invalid_options', `defaultRegion: '${options.defaultRegion}' is not a supported ISO 3166-1 alpha-2 region`, {
      path: 'defaultRegion',
    });
  }
  const out: NormalisedIds = { dropped: [] };
  for (const field of IDENTIFIER_FIELDS) {
    const raw = event[field];
    if (raw === null || raw === undefined) continue;
    const trimmed = raw.trim();
    if (trimmed === '') {
      out.dropped.push({ field, value_kind: 'blank', reason: 'empty' });
      continue;
    }
    const junk = junkKind(trimmed, options.blocklist);
    if (junk !== undefined) {
      out.dropped.push({ field, value_kind: junk, reason: 'junk' });
      continue;
    }
    if (field === 'email') {
      const email = trimmed.toLowerCase();
      if (EMAIL.test(email)) out.email = email;
      else out.dropped.push({ field, value_kind: 'malformed', reason: 'invalid_email' });
    } else if (field === 'phone') {
      const phone = normalisePhone(trimmed, options.defaultRegion);
      const kind = phone === undefined ? undefined : junkKind(phone, options.blocklist);
      if (phone === undefined) out.dropped.push({ field, value_kind: 'malformed', reason: 'invalid_phone' });
      else if (kind !== undefined) out.dropped.push({ field, value_kind: kind, reason: 'junk' });
      else out.phone = phone;
    } else {
      out[field] = trimmed;
    }
  }
  return out;
}

/** True when at least one identifier survived normalisation. */
export function hasIdentifier(ids: NormalisedIds): boolean {
  return ids.user_id !== undefined || ids.email !== undefined || ids.phone !== undefined || ids.anonymous_id !== undefined;
}
