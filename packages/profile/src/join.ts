// The join of two profile documents, generic over RULES. Commutative and associative for every rule, idempotent
// for every rule but `sum` (counts and amounts, applied once per event_id by the store). Inputs are never mutated;
// the result may share unchanged sub-objects with them, and is the first input itself where the second changes nothing.
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

/** b's values into `out` (a set being built), each at the larger of its two ranks. */
function addRanks(out: RankSet, b: RankSet): void {
  const keys = Object.keys(b);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const r = b[k]!;
    const cur = own(out, k);
    if (cur === undefined || r > cur) put(out, k, r);
  }
}

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
      // a copy of a once b brings a new value or a later rank; a itself if it brings none (see `record`)
      let out: RankSet | undefined;
      const keys = Object.keys(b);
      for (let i = 0; i < keys.length; i++) {
        const r = (b as RankSet)[keys[i]!]!;
        const cur = own(a as RankSet, keys[i]!);
        if (cur !== undefined && r <= cur) continue;
        out ??= { ...(a as RankSet) };
        put(out, keys[i]!, r);
      }
      return truncateSet(out ?? (a as RankSet), rule.limit);
    }
    case 'map': {
      if (!isObject(a) || !isObject(b)) return a;
      let out: DocObject | undefined; // a copy of a once a key's value changes; a itself if none does
      const keys = Object.keys(b);
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const bv = b[k];
        if (bv === undefined) continue;
        const av = hasOwn(a, k) ? a[k] : undefined;
        const v = av === undefined ? bv : joinValue(rule.of, av, bv)!;
        if (v === av) continue;
        out ??= { ...a };
        put(out, k, v);
      }
      return out ?? a;
    }
    case 'record': {
      if (!isObject(a) || !isObject(b)) return a;
      // The joined fields, in the rule's order. While every field is a's own value, nothing is built: the result is a
      // itself when it holds exactly those fields in that order. A document's unchanged parts stay the same objects:
      // no copies of them, and fewer objects per fold for the collector (issue 12).
      const fields = fieldList(rule);
      let out: DocObject | undefined;
      for (let i = 0; i < fields.length; i++) {
        const [f, r] = fields[i]!;
        const av = hasOwn(a, f) ? a[f] : undefined;
        const bv = hasOwn(b, f) ? b[f] : undefined;
        const v = bv === undefined ? av : av === undefined ? bv : joinValue(r, av, bv)!;
        if (out === undefined) {
          if (v === av) continue;
          out = recordPrefix(a, fields, i);
        }
        if (v !== undefined) out[f] = v;
      }
      return out ?? (hasOnlyFields(a, fields) ? a : recordPrefix(a, fields, fields.length));
    }
  }
}

/** a's values of the rule's first n fields, in the rule's order (a new object). */
function recordPrefix(a: DocObject, fields: [string, Rule][], n: number): DocObject {
  const out: DocObject = {};
  for (let j = 0; j < n; j++) {
    const g = fields[j]![0];
    const v = hasOwn(a, g) ? a[g] : undefined;
    if (v !== undefined) out[g] = v;
  }
  return out;
}

/** Whether a's own keys are rule fields, each defined, in the rule's order (what recordPrefix would build). */
function hasOnlyFields(a: DocObject, fields: [string, Rule][]): boolean {
  const keys = Object.keys(a);
  let k = 0;
  for (let j = 0; j < fields.length && k < keys.length; j++) {
    if (keys[k] !== fields[j]![0]) continue;
    if (a[keys[k]!] === undefined) return false;
    k++;
  }
  return k === keys.length;
}

/** join(a, b): the profile that has seen the events of both a and b. */
export function join(a: ProfileDoc, b: ProfileDoc): ProfileDoc {
  return (joinValue(RULES, a as DocObject, b as DocObject) ?? {}) as ProfileDoc;
}

/**
 * The join of many values in one pass: equal to the left fold `join(join(v0, v1), v2)…` (join.test.ts; keys in the
 * same order, except inside a set that went over its limit, whose order carries nothing: readers sort), without the fold's copy of the accumulated value at every step. A stitcher
 * joins a chunk's fragments of a profile and its stored document; folding them two at a time copied the growing
 * document once per event (issue 12: the join and its garbage were a third of a stitcher catching up on clickstream).
 * A value only one input has is returned as it is (shared, never mutated).
 */
export function joinValues(rule: Rule, vs: readonly (DocValue | undefined)[]): DocValue | undefined {
  const defined: DocValue[] = [];
  for (let i = 0; i < vs.length; i++) if (vs[i] !== undefined) defined.push(vs[i]!);
  if (defined.length <= 2) return joinValue(rule, defined[0], defined[1]);
  switch (rule.kind) {
    case 'min':
    case 'max':
    case 'sum':
    case 'lww':
    case 'fww': {
      let acc = defined[0];
      for (let i = 1; i < defined.length; i++) acc = joinValue(rule, acc, defined[i]);
      return acc;
    }
    case 'set': {
      const out: RankSet = { ...(defined[0] as RankSet) };
      for (let i = 1; i < defined.length; i++) addRanks(out, defined[i] as RankSet);
      return truncateSet(out, rule.limit);
    }
    case 'map': {
      if (!defined.every(isObject)) return leftFold(rule, defined);
      const byKey = new Map<string, DocValue[]>();
      for (const o of defined as DocObject[]) {
        const keys = Object.keys(o);
        for (let j = 0; j < keys.length; j++) {
          const v = o[keys[j]!];
          if (v === undefined) continue;
          const list = byKey.get(keys[j]!);
          if (list) list.push(v);
          else byKey.set(keys[j]!, [v]);
        }
      }
      const out: DocObject = {};
      for (const [k, list] of byKey) put(out, k, list.length === 1 ? list[0]! : joinValues(rule.of, list)!);
      return out;
    }
    case 'record': {
      if (!defined.every(isObject)) return leftFold(rule, defined);
      const out: DocObject = {};
      const fields = fieldList(rule);
      const list: DocValue[] = [];
      const first = defined[0] as DocObject;
      let same = true; // every field is the first input's own value (then the result is that input: see joinValue)
      for (let i = 0; i < fields.length; i++) {
        const [f, r] = fields[i]!;
        list.length = 0;
        for (const o of defined as DocObject[]) if (hasOwn(o, f) && o[f] !== undefined) list.push(o[f]!);
        if (list.length === 1) out[f] = list[0]!;
        else if (list.length > 1) out[f] = joinValues(r, list)!;
        if (same && out[f] !== (hasOwn(first, f) ? first[f] : undefined)) same = false;
      }
      return same && hasOnlyFields(first, fields) ? first : out;
    }
  }
}

function leftFold(rule: Rule, vs: readonly DocValue[]): DocValue | undefined {
  let acc: DocValue | undefined = vs[0];
  for (let i = 1; i < vs.length; i++) acc = joinValue(rule, acc, vs[i]);
  return acc;
}

/** join(docs[0], docs[1], …) in one pass (joinValues). */
export function joinAll(docs: readonly ProfileDoc[]): ProfileDoc {
  return (joinValues(RULES, docs as DocObject[]) ?? {}) as ProfileDoc;
}
