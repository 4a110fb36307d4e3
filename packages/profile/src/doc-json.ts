// A profile document's JSON, written again only where it changed since the document it was joined onto.
import type { ProfileDoc } from './doc.ts';

/** What docJson wrote of a document: per top-level key, its value and that value's JSON. */
type DocMemo = ReadonlyMap<string, { readonly value: unknown; readonly json: string }>;

/**
 * Where a document keeps its DocMemo: a symbol-keyed, non-enumerable property (no JSON, key list, clone or deep
 * equality sees it), as profileViewJson keeps its own (view.ts: why not a WeakMap).
 */
const DOC_MEMO = Symbol('docJson');

/**
 * JSON.stringify(doc), to the byte (doc-json.test.ts). Given `previous`, the document `doc` was joined onto (a
 * stitcher's fold), a section that is the same object (or value) as there is not serialised again: documents are never
 * mutated and join keeps what did not change the same objects (issue 12: the whole document was serialised for every
 * fold, ~20 % of a stitcher's thread).
 */
export function docJson(doc: ProfileDoc, previous?: ProfileDoc): string {
  const prev = (previous as { [DOC_MEMO]?: DocMemo } | undefined)?.[DOC_MEMO];
  const memo = new Map<string, { value: unknown; json: string }>();
  const d = doc as Record<string, unknown>;
  const keys = Object.keys(d);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const value = d[k];
    const kept = prev?.get(k);
    const json = kept !== undefined && kept.value === value ? kept.json : JSON.stringify(value);
    if (json === undefined) continue; // what JSON.stringify leaves out (undefined)
    memo.set(k, { value, json });
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${json}`;
  }
  if (Object.isExtensible(doc) && !Object.hasOwn(doc, DOC_MEMO)) Object.defineProperty(doc, DOC_MEMO, { value: memo });
  return `${out}}`;
}
