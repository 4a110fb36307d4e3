// The join of two profile documents, generic over RULES. Commutative and associative for every rule, idempotent
// for every rule but `sum` (counts and amounts, applied once per event_id by the store). Inputs are never mutated;
// the result may share unchanged sub-objects with them.
import { cmpCell, isObject, own, put, truncateSet } from './doc.ts';
import type { Cell, DocObject, DocValue, ProfileDoc, RankSet } from './doc.ts';
import { RULES } from './rules.ts';
import type { Rule } from './rules.ts';

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
      for (const [k, r] of Object.entries(b as RankSet)) {
        const cur = own(out, k);
        if (cur === undefined || r > cur) put(out, k, r);
      }
      return truncateSet(out, rule.limit);
    }
    case 'map': {
      if (!isObject(a) || !isObject(b)) return a;
      const out: DocObject = { ...a };
      for (const [k, bv] of Object.entries(b)) {
        const v = joinValue(rule.of, own(a, k), bv);
        if (v !== undefined) put(out, k, v);
      }
      return out;
    }
    case 'record': {
      if (!isObject(a) || !isObject(b)) return a;
      const out: DocObject = {};
      for (const [f, r] of Object.entries(rule.fields)) {
        const v = joinValue(r, own(a, f), own(b, f));
        if (v !== undefined) out[f] = v;
      }
      return out;
    }
  }
}

/** join(a, b): the profile that has seen the events of both a and b. */
export function join(a: ProfileDoc, b: ProfileDoc): ProfileDoc {
  return (joinValue(RULES, a as DocObject, b as DocObject) ?? {}) as ProfileDoc;
}
