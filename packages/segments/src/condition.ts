// The condition tree: its compiled form (what the evaluator walks) and the parser from the YAML shape, which
// checks every field against the catalogue and reports each problem with its path.
import { z } from 'zod';
import { fieldType } from './catalogue.ts';
import type { FieldType } from './catalogue.ts';
import { parseDuration } from './duration.ts';
import { DEFAULT_RFM_MODEL, rfmModelSchema } from './rfm.ts';
import type { RfmModel } from './rfm.ts';

export type Scalar = string | number | boolean;
export type CompareOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';
/** Bounds on a number: every one given must hold. */
export type Bounds = { eq?: number; gt?: number; gte?: number; lt?: number; lte?: number };
export type Range = readonly [number, number];

export type Condition =
  | { kind: 'all'; of: readonly Condition[] }
  | { kind: 'any'; of: readonly Condition[] }
  | { kind: 'not'; of: Condition }
  | { kind: 'compare'; field: string; op: CompareOp; value: Scalar }
  | { kind: 'in'; field: string; values: readonly Scalar[] }
  | { kind: 'contains'; field: string; value: Scalar }
  | { kind: 'exists'; field: string; value: boolean }
  | { kind: 'after'; field: string; other: string }
  | { kind: 'within_last' | 'older_than' | 'within_next'; field: string; ms: number }
  | {
      kind: 'aggregate';
      fn: 'count' | 'sum';
      of: 'purchases' | 'product_views' | 'total_minor' | 'net_minor';
      currency: string | null;
      within: number | null;
      ending: 'now' | 'last_purchase';
      bounds: Bounds;
    }
  | { kind: 'rfm'; r: Range; f: Range; m: Range; model: RfmModel };

export interface ParseContext {
  file: string;
  issues: { file: string; path: string; message: string }[];
}

type Path = readonly (string | number)[];
const FIELD_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists', 'within_last', 'older_than', 'within_next', 'after'] as const;
type FieldOp = (typeof FIELD_OPS)[number];
const ALLOWED: Record<FieldType, readonly FieldOp[]> = {
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'exists'],
  string: ['eq', 'neq', 'in', 'contains', 'exists'],
  boolean: ['eq', 'neq', 'exists'],
  timestamp: ['within_last', 'older_than', 'within_next', 'after', 'exists'],
  list: ['contains', 'exists'],
};

const duration = z.string().refine((s) => parseDuration(s) !== undefined, 'expected a duration: an integer and s, m, h, d or w (e.g. 1h, 30d)');
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const bound = z.number();
const boundsShape = { eq: bound.optional(), gt: bound.optional(), gte: bound.optional(), lt: bound.optional(), lte: bound.optional() };
const score = z.union([z.int().min(1).max(5), z.tuple([z.int().min(1).max(5), z.int().min(1).max(5)])]).optional();

const SCHEMAS = {
  field: z.strictObject({
    field: z.string(),
    eq: scalar.optional(),
    neq: scalar.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    in: z.array(scalar).min(1).optional(),
    contains: scalar.optional(),
    exists: z.boolean().optional(),
    within_last: duration.optional(),
    older_than: duration.optional(),
    within_next: duration.optional(),
    after: z.string().optional(),
  }),
  count: z.strictObject({
    count: z.enum(['purchases', 'product_views']),
    within: duration.optional(),
    ending: z.enum(['now', 'last_purchase']).optional(),
    ...boundsShape,
  }),
  sum: z.strictObject({
    sum: z.enum(['total_minor', 'net_minor']),
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code'),
    within: duration.optional(),
    ending: z.enum(['now', 'last_purchase']).optional(),
    ...boundsShape,
  }),
  rfm: z.strictObject({ rfm: z.strictObject({ r: score, f: score, m: score }), model: rfmModelSchema.optional() }),
} as const;
const KINDS = ['all', 'any', 'not', 'field', 'count', 'sum', 'rfm'] as const;

const dotted = (path: Path) => path.join('.');

function report(ctx: ParseContext, path: Path, message: string): undefined {
  ctx.issues.push({ file: ctx.file, path: dotted(path), message });
  return undefined;
}

function check<T>(ctx: ParseContext, path: Path, schema: z.ZodType<T>, value: unknown): T | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) report(ctx, [...path, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], issue.message);
  return undefined;
}

const range = (s: number | readonly [number, number] | undefined): Range => (s === undefined ? [1, 5] : typeof s === 'number' ? [s, s] : s);

function checkBounds(ctx: ParseContext, path: Path, b: Bounds): Bounds | undefined {
  const given = Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as Bounds;
  return Object.keys(given).length === 0 ? report(ctx, path, 'expected at least one of eq, gt, gte, lt, lte') : given;
}

function fieldLeaf(ctx: ParseContext, path: Path, raw: z.infer<typeof SCHEMAS.field>): Condition | undefined {
  const type = fieldType(raw.field);
  if (type === undefined) return report(ctx, [...path, 'field'], `unknown profile field ${JSON.stringify(raw.field)} (see FIELD_CATALOGUE)`);
  const ops = FIELD_OPS.filter((op) => raw[op] !== undefined);
  if (ops.length === 0) return report(ctx, path, `expected an operator: one of ${FIELD_OPS.join(', ')}`);
  const leaves: Condition[] = [];
  for (const op of ops) {
    const at = [...path, op];
    if (!ALLOWED[type].includes(op)) {
      report(ctx, at, `${op} does not apply to ${raw.field} (a ${type}; allowed: ${ALLOWED[type].join(', ')})`);
      continue;
    }
    const value = raw[op]!;
    const values = op === 'in' ? (value as Scalar[]) : [value as Scalar];
    const expected = type === 'list' ? 'string' : type;
    if (['eq', 'neq', 'in', 'contains'].includes(op) && values.some((v) => typeof v !== expected)) {
      report(ctx, at, `expected ${expected} value(s) for ${raw.field}`);
      continue;
    }
    if (op === 'after') {
      if (fieldType(value as string) !== 'timestamp') {
        report(ctx, at, `after needs a timestamp field (got ${JSON.stringify(value)})`);
        continue;
      }
      leaves.push({ kind: 'after', field: raw.field, other: value as string });
    } else if (op === 'within_last' || op === 'older_than' || op === 'within_next')
      leaves.push({ kind: op, field: raw.field, ms: parseDuration(value as string)! });
    else if (op === 'in') leaves.push({ kind: 'in', field: raw.field, values });
    else if (op === 'contains') leaves.push({ kind: 'contains', field: raw.field, value: value as Scalar });
    else if (op === 'exists') leaves.push({ kind: 'exists', field: raw.field, value: value as boolean });
    else leaves.push({ kind: 'compare', field: raw.field, op, value: value as Scalar });
  }
  if (leaves.length !== ops.length) return undefined;
  return leaves.length === 1 ? leaves[0] : { kind: 'all', of: leaves };
}

/** The compiled condition, or undefined after reporting every problem into ctx. */
export function parseCondition(ctx: ParseContext, path: Path, raw: unknown): Condition | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return report(ctx, path, 'expected a condition (a mapping)');
  const kinds = KINDS.filter((k) => Object.hasOwn(raw, k));
  if (kinds.length !== 1) {
    return report(
      ctx,
      path,
      kinds.length === 0
        ? `expected one of ${KINDS.join(', ')} (got keys ${Object.keys(raw).join(', ') || 'none'})`
        : `a condition has exactly one of ${KINDS.join(', ')} (got ${kinds.join(', ')})`,
    );
  }
  const o = raw as Record<string, unknown>;
  const kind = kinds[0]!;
  if (kind === 'all' || kind === 'any') {
    if (Object.keys(o).length !== 1) return report(ctx, path, `${kind} takes no other keys`);
    const list = o[kind];
    if (!Array.isArray(list) || list.length === 0) return report(ctx, [...path, kind], 'expected a non-empty list of conditions');
    const of = list.map((c, i) => parseCondition(ctx, [...path, kind, i], c));
    return of.every((c) => c !== undefined) ? { kind, of: of as Condition[] } : undefined;
  }
  if (kind === 'not') {
    if (Object.keys(o).length !== 1) return report(ctx, path, 'not takes no other keys');
    const of = parseCondition(ctx, [...path, 'not'], o.not);
    return of === undefined ? undefined : { kind: 'not', of };
  }
  if (kind === 'field') {
    const f = check(ctx, path, SCHEMAS.field, raw);
    return f === undefined ? undefined : fieldLeaf(ctx, path, f);
  }
  if (kind === 'count' || kind === 'sum') {
    const a = kind === 'count' ? check(ctx, path, SCHEMAS.count, raw) : check(ctx, path, SCHEMAS.sum, raw);
    if (a === undefined) return undefined;
    const bounds = checkBounds(ctx, path, { eq: a.eq, gt: a.gt, gte: a.gte, lt: a.lt, lte: a.lte });
    if (bounds === undefined) return undefined;
    return {
      kind: 'aggregate',
      fn: kind,
      of: 'count' in a ? a.count : a.sum,
      currency: 'currency' in a ? a.currency : null,
      within: a.within === undefined ? null : parseDuration(a.within)!,
      ending: a.ending ?? 'now',
      bounds,
    };
  }
  const r = check(ctx, path, SCHEMAS.rfm, raw);
  if (r === undefined) return undefined;
  return { kind: 'rfm', r: range(r.rfm.r), f: range(r.rfm.f), m: range(r.rfm.m), model: r.model ?? DEFAULT_RFM_MODEL };
}
