// Loads every segments/*.yaml at start: all files are validated before anything is returned, and every problem
// (with duplicate ids across files) is reported in one SegmentDefinitionError.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDefinitions } from './definition.ts';
import type { EachOverrides, ParamOverrides, SegmentDefinition } from './definition.ts';
import { SegmentDefinitionError, isSegmentDefinitionError } from './errors.ts';
import type { DefinitionIssue } from './errors.ts';

export interface LoadOptions {
  /** Per definition id, parameter values replacing the declared ones. */
  params?: ParamOverrides;
  /** Lists replacing the `for_each` lists of parameterised files, by parameter name (`tier`: LOYALTY_TIERS). */
  each?: EachOverrides;
}

/** The definitions of `dir`/*.yaml (and *.yml), sorted by id. */
export async function loadDefinitions(dir: string, options: LoadOptions = {}): Promise<SegmentDefinition[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const found: DefinitionIssue[] = [];
  const defs: SegmentDefinition[] = [];
  for (const f of files) {
    const file = join(dir, f);
    try {
      defs.push(...parseDefinitions(await readFile(file, 'utf8'), file, options.params, options.each));
    } catch (err) {
      if (!isSegmentDefinitionError(err)) throw err;
      found.push(...err.issues);
    }
  }
  const byId = new Map<string, SegmentDefinition>();
  for (const d of defs) {
    const first = byId.get(d.id);
    if (first !== undefined) found.push({ file: d.file, path: 'id', message: `duplicate id ${JSON.stringify(d.id)} (also in ${first.file})` });
    else byId.set(d.id, d);
  }
  // An override naming no segment is a typo; only knowable when every file parsed.
  for (const id of Object.keys(options.params ?? {})) {
    if (found.length === 0 && !byId.has(id))
      found.push({ file: dir, path: `params.${id}`, message: `parameter overrides for an unknown segment ${JSON.stringify(id)}` });
  }
  if (found.length > 0) throw new SegmentDefinitionError(found);
  return defs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
