// The join of two profile documents, generic over RULES. Commutative and associative for every rule, idempotent
// for every rule but `sum` (counts and amounts, applied once per event_id by the store). Inputs are never mutated;
// the result may share unchanged sub-objects with them.
import { cmpCell, isObject, own, put, truncateSet } from './doc.ts';
import type { Cell, DocObject, DocValue, ProfileDoc, RankSet } from './doc.ts';
import { RULES } from './rules.ts';
import type { Rule } from './rules.ts';

/** A record rule's fields as a list (built once per rule: the join runs for every event). */
const FIELD_LISTS = new WeakMap<object, [string, Rule][]>();
function fieldList(rule: Extract<Rule, { kind: 'record' }>): [string, Rule][] {
  let list = FIELD_LISTS.get(rule);
  if (list === undefined) {
    list = Object.entries(rule.fields);
    FIELD_LISTS.set(rule, list);
  }
  return list;
}

const hasOwn = Object.hasOwn;

export function joinValue(rule: Rule, a: DocValue | undefined, b: DocValue | undefined): DocValue | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  switch (rule.kind) {
    case 'min':
      return (b as number) < (a as number) ? b : a;
    case 'max':
      return (b as number) > (a as number) ? b : a;
    case 'sum':
      return (a as number) + (b as number);
    case 'lww':
      return cmpCell(b as Cell, a as Cell) > 0 ? b : a;
    case 'fww':
      return cmpCell(b as Cell, a as Cell) < 0 ? b : a;
    case 'set': {
      const out: RankSet = { ...(a as RankSet) };
      const bs = b as RankSet;
      const keys = Object.keys(bs);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const r = bs[k]!;
        const cur = own(out, k);
        if (cur === undefined || r > cur) put(out, k, r);
      }
      return truncateSet(out, rule.limit);
    }
    case 'map': {
      if (!isObject(a) || !isObject(b)) return a;
      const out: DocObject = { ...a };
      const keys = Object.keys(b);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const bv = b[k];
        if (bv === undefined) continue;
        const av = hasOwn(a, k) ? a[k] : undefined;
        put(out, k, av === undefined ? bv : joinValue(rule.of, av, bv)!);
      }
      return out;
    }
    case 'record': {
      if (!isObject(a) || !isObject(b)) return a;
      const out: DocObject = {};
      const fields = fieldList(rule);
      for (let i = 0; i < fields.length; i++) {
        const [f, r] = fields[i]!;
        const av = hasOwn(a, f) ? a[f] : undefined;
        const bv = hasOwn(b, f) ? b[f] : undefined;
        if (bv === undefined) {
          if (av !== undefined) out[f] = av;
        } else if (av === undefined) {
          out[f] = bv;
        } else {
          out[f] = joinValue(r, av, bv)!;
        }
      }
      return out;
    }
  }
}

/** join(a, b): the profile that has seen the events of both a and b. */
export function join(a: ProfileDoc, b: ProfileDoc): ProfileDoc {
  return (joinValue(RULES, a as DocObject, b as DocObject) ?? {}) as ProfileDoc;
}
