// A segment definition: one YAML file in segments/, validated with zod, its condition compiled and its fields
// checked against the catalogue. Problems are collected (file, path, reason) and thrown together.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { CONSENT_ALIASES, CONSENT_PURPOSES, fieldType } from './catalogue.ts';
import { parseCondition } from './condition.ts';
import type { Condition, ParseContext } from './condition.ts';
import { SegmentDefinitionError } from './errors.ts';

export interface SegmentDefinition {
  id: string;
  version: number;
  name: string;
  description: string;
  /** Consent purpose required (`consent.<purpose>.granted` must be true), or null. */
  requires_consent: string | null;
  /** Profile fields copied into membership events. */
  traits: readonly string[];
  /** Parameters after overrides; `$name` strings in the condition were replaced by them. */
  params: Readonly<Record<string, unknown>>;
  condition: Condition;
  /** The file it came from (for messages). */
  file: string;
}

/** Per definition id, values that replace the file's declared params (e.g. a high-value threshold). */
export type ParamOverrides = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

const PARAM_NAME = /^[a-z][a-z0-9_]*$/;
const PARAM_REF = /^\$([a-z][a-z0-9_]*)$/;

const definitionSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'expected a lower-case kebab-case id'),
  version: z.int().min(1),
  name: z.string().min(1),
  description: z.string().min(1),
  requires_consent: z
    .enum([...CONSENT_PURPOSES, ...Object.keys(CONSENT_ALIASES)] as [string, ...string[]])
    .transform((p) => CONSENT_ALIASES[p] ?? p)
    .optional(),
  traits: z.array(z.string()).optional(),
  params: z.record(z.string().regex(PARAM_NAME, 'expected a snake_case parameter name'), z.unknown()).optional(),
  condition: z.unknown(),
});

/** Replaces every `$name` string by its parameter, reporting unknown names. */
function substitute(ctx: ParseContext, path: (string | number)[], v: unknown, params: Record<string, unknown>): unknown {
  if (typeof v === 'string') {
    const m = PARAM_REF.exec(v);
    if (m === null) return v;
    if (Object.hasOwn(params, m[1]!)) return params[m[1]!];
    ctx.issues.push({ file: ctx.file, path: path.join('.'), message: `unknown parameter ${v} (declare it under params)` });
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(ctx, [...path, i], x, params));
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(ctx, [...path, k], x, params)]));
  }
  return v;
}

function issues(ctx: ParseContext, cause?: unknown): SegmentDefinitionError {
  return new SegmentDefinitionError(ctx.issues, { cause });
}

/** Validates one parsed document (a YAML file's value). Throws SegmentDefinitionError listing every problem. */
export function definitionFromValue(value: unknown, file: string, overrides: ParamOverrides = {}): SegmentDefinition {
  const ctx: ParseContext = { file, issues: [] };
  const r = definitionSchema.safeParse(value);
  if (!r.success) {
    for (const i of r.error.issues) ctx.issues.push({ file, path: i.path.map(String).join('.'), message: i.message });
    throw issues(ctx);
  }
  const raw = r.data;
  const declared = raw.params ?? {};
  const override = Object.hasOwn(overrides, raw.id) ? overrides[raw.id]! : {};
  for (const k of Object.keys(override)) {
    if (!Object.hasOwn(declared, k))
      ctx.issues.push({ file, path: `params.${k}`, message: `override of an undeclared parameter (declared: ${Object.keys(declared).join(', ') || 'none'})` });
  }
  const params = { ...declared, ...override };
  const condition = parseCondition(ctx, ['condition'], substitute(ctx, ['condition'], raw.condition, params));
  (raw.traits ?? []).forEach((t, i) => {
    const type = fieldType(t);
    if (type === undefined) ctx.issues.push({ file, path: `traits.${i}`, message: `unknown profile field ${JSON.stringify(t)} (see FIELD_CATALOGUE)` });
  });
  if (ctx.issues.length > 0 || condition === undefined) throw issues(ctx);
  return {
    id: raw.id,
    version: raw.version,
    name: raw.name,
    description: raw.description,
    requires_consent: raw.requires_consent ?? null,
    traits: raw.traits ?? [],
    params,
    condition,
    file,
  };
}

/** Values replacing a `for_each` list, by parameter name (e.g. `tier` ← LOYALTY_TIERS). */
export type EachOverrides = Readonly<Record<string, readonly string[]>>;

/**
 * A parameterised file, `for_each: { <param>: [v1, v2, …] }`, is one definition per value: `$<param>` is replaced in
 * its id, name and description, and the parameter is declared with that value for its condition. Anything else is
 * one definition as it is (a malformed for_each is then reported by the schema).
 */
export function expandForEach(value: unknown, each: EachOverrides = {}): unknown[] {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, 'for_each')) return [value];
  const { for_each: spec, ...rest } = value as Record<string, unknown>;
  const entries = typeof spec === 'object' && spec !== null ? Object.entries(spec) : [];
  if (entries.length !== 1 || !Array.isArray(entries[0]![1]) || !PARAM_NAME.test(entries[0]![0])) return [value];
  const [name, listed] = entries[0]! as [string, unknown[]];
  const fill = (s: unknown, v: unknown) => (typeof s === 'string' ? s.replaceAll(`$${name}`, String(v)) : s);
  const params = typeof rest.params === 'object' && rest.params !== null ? rest.params : {};
  return (each[name] ?? listed).map((v) => ({
    ...rest,
    id: fill(rest.id, v),
    name: fill(rest.name, v),
    description: fill(rest.description, v),
    params: { ...params, [name]: v },
  }));
}

/** Parses and validates one YAML text. */
export function parseDefinition(text: string, file: string, overrides: ParamOverrides = {}): SegmentDefinition {
  return definitionFromValue(parseYamlText(text, file), file, overrides);
}

/** Parses and validates one YAML text that may be parameterised (`for_each`): its definitions. */
export function parseDefinitions(text: string, file: string, overrides: ParamOverrides = {}, each: EachOverrides = {}): SegmentDefinition[] {
  return expandForEach(parseYamlText(text, file), each).map((v) => definitionFromValue(v, file, overrides));
}

function parseYamlText(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw err;
    const line = err.linePos?.[0];
    throw new SegmentDefinitionError([{ file, path: line ? `line ${line.line}:${line.col}` : '', message: `not valid YAML: ${err.message.split('\n')[0]}` }], {
      cause: err,
    });
  }
  return value;
}
