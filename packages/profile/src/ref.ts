/**
 * Profile references, the way people and apps name a customer: a profile id, or a typed identifier
 * (`email:…`, `phone:…`, `user:…`, `anon:…`) normalised exactly as the stitchers normalise it, so any spelling the
 * stitchers would have matched finds the profile. The one resolution the CLI's `profile` command and the profile API
 * share: parse (pure), then look up the owner and read the live profile, following merge aliases.
 */
import { ProfileError } from './errors.ts';
import { normaliseIdentifiers, type IdentifierField, type NormaliseOptions } from './normalise.ts';
import type { ProfileStore, StoredProfile } from './store/store.ts';

/** The ref prefixes and the identifier each names. */
export const REF_TYPES = { email: 'email', phone: 'phone', user: 'user_id', anon: 'anonymous_id' } as const satisfies Record<string, IdentifierField>;

/** What profileIdBase() and the identity script make: p, 9 base-36 time digits, 5 random hex, a 5-hex counter. */
export const PROFILE_ID = /^p[0-9a-z]{19}$/;

/** Longer refs are refused before any parsing (no identifier the stitchers keep is this long). */
export const MAX_REF_LENGTH = 512;

export type ParsedRef = { kind: 'profile_id'; value: string } | { kind: IdentifierField; value: string };

/** A ref, checked and normalised; throws ProfileError `invalid_ref` (naming what is wrong, never echoing the value). */
export function parseRef(ref: string, options: NormaliseOptions): ParsedRef {
  if (ref.length > MAX_REF_LENGTH) throw new ProfileError('invalid_ref', `a ref is at most ${MAX_REF_LENGTH} characters`, { path: 'ref' });
  const colon = ref.indexOf(':');
  if (colon < 0) {
    if (PROFILE_ID.test(ref)) return { kind: 'profile_id', value: ref };
    throw new ProfileError('invalid_ref', 'expected a profile id (p + 19 lower-case letters or digits) or one of email:, phone:, user:, anon:', {
      path: 'ref',
    });
  }
  const prefix = ref.slice(0, colon);
  if (!Object.hasOwn(REF_TYPES, prefix)) {
    throw new ProfileError('invalid_ref', `unknown ref type "${prefix.slice(0, 20)}": expected email:, phone:, user: or anon:`, { path: 'ref' });
  }
  const type = REF_TYPES[prefix as keyof typeof REF_TYPES];
  const fields: Record<IdentifierField, string | null> = { user_id: null, email: null, phone: null, anonymous_id: null };
  fields[type] = ref.slice(colon + 1);
  const ids = normaliseIdentifiers(fields, options);
  const value = ids[type];
  if (value === undefined) throw new ProfileError('invalid_ref', `not a usable ${type} (${ids.dropped[0]?.reason ?? 'invalid'})`, { path: 'ref' });
  return { kind: type, value };
}

export interface ResolvedRef {
  /** The ref as asked. */
  requested: string;
  parsed: ParsedRef;
  /** The live profile (merges decided into it completed first); undefined when nothing owns the ref. */
  profile: StoredProfile | undefined;
  /** Set when the ref was the id of a profile merged into another: the live profile's id. */
  mergedInto: string | undefined;
}

/** Parses a ref and reads the live profile it names, following merge aliases. */
export async function resolveRef(store: ProfileStore, ref: string, options: NormaliseOptions): Promise<ResolvedRef> {
  const parsed = parseRef(ref, options);
  const pid = parsed.kind === 'profile_id' ? parsed.value : await store.owner(parsed.kind, parsed.value);
  const profile = pid === undefined ? undefined : await store.read(pid, { complete: true });
  const mergedInto = parsed.kind === 'profile_id' && profile !== undefined && profile.profileId !== parsed.value ? profile.profileId : undefined;
  return { requested: ref, parsed, profile, mergedInto };
}
