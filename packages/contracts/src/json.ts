/**
 * Plain JSON ↔ Avro values for any contract schema.
 *
 * Plain JSON (what producers, the CLI and tests write): a nullable field is the value or null (never Avro's
 * `{"string": …}` wrapper) and may be left out; a field with a default may be left out; times are ISO-8601
 * strings or epoch milliseconds; unknown fields are an error.
 * Avro values (what avsc encodes, and the shape of the generated interfaces): every field present, times as
 * epoch-millisecond numbers.
 */
import type { Type } from 'avsc';
import { avroType, isAvroType, TIMESTAMP_MILLIS } from './avro.ts';
import type { AvroRecordSchema } from './avro.ts';
import { ContractError } from './errors.ts';
import type { ContractIssue } from './errors.ts';

/** A schema as written in schemas/*.avsc, or its avsc type (e.g. a writer type fetched from the registry). */
export type SchemaLike = AvroRecordSchema | Type;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ToJsonOptions {
  /** `iso` (default): times as ISO-8601 UTC strings, for printing; `millis`: epoch ms, the Avro-value shape. */
  times?: 'iso' | 'millis';
}

// Dates like 2024-05-01T12:00:00Z, 2024-05-01T12:00:00.123+02:00 or a bare date 2024-05-01 (midnight UTC).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/**
 * Checks plain JSON against a schema and returns the Avro value (the generated interface shape).
 * Throws ContractError `invalid_event` naming the first bad path; `issues` lists all of them.
 */
export function fromPlainJson<T = Record<string, unknown>>(schema: SchemaLike, input: unknown): T {
  const type = typeOf(schema);
  const issues: ContractIssue[] = [];
  const value = normalize(type, input, [], issues);
  if (issues.length === 0) {
    type.isValid(value, {
      errorHook: (path: string[], bad: unknown, leaf: Type) => {
        issues.push({ path: path.join('.'), message: mismatch(leaf, bad) });
      },
    });
  }
  const first = issues[0];
  if (first !== undefined) {
    const where = first.path === '' ? '' : `${first.path}: `;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new ContractError('invalid_event', `${where}${first.message}${more}`, { path: first.path, issues });
  }
  return value as T;
}

/**
 * Turns an Avro value (e.g. a decoded event) into plain JSON objects: nullable fields as value or null,
 * times as ISO-8601 UTC strings (or epoch ms with `times: 'millis'`).
 */
export function toPlainJson(schema: SchemaLike, value: unknown, options: ToJsonOptions = {}): JsonValue {
  return plain(typeOf(schema), value, options.times ?? 'iso');
}

/** Parses an ISO-8601 string or epoch-ms number to epoch ms; undefined if it is neither. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value !== 'string' || !ISO_8601.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function typeOf(schema: SchemaLike): Type {
  return isAvroType(schema) ? schema : avroType(schema);
}

function normalize(type: Type, input: unknown, path: string[], issues: ContractIssue[]): unknown {
  switch (type.typeName) {
    case 'record':
    case 'error':
      return normalizeRecord(type as RecordLike, input, path, issues);
    case 'union:unwrapped': {
      if (input === null) return null;
      const branches = (type as UnionLike).types.filter((branch) => branch.typeName !== 'null');
      if (branches.length === 1 && branches[0] !== undefined) return normalize(branches[0], input, path, issues);
      const fitting = branches.find((branch) => fits(branch, input));
      return fitting === undefined ? input : normalize(fitting, input, path, issues);
    }
    case 'array':
      if (!Array.isArray(input)) return input; // isValid reports it
      return input.map((item, i) => normalize((type as ArrayLike).itemsType, item, [...path, String(i)], issues));
    case 'map':
      if (!isPlainObject(input)) return input;
      return Object.fromEntries(Object.entries(input).map(([key, item]) => [key, normalize((type as MapLike).valuesType, item, [...path, key], issues)]));
    case TIMESTAMP_MILLIS: {
      const ms = parseTimestamp(input);
      if (ms === undefined) {
        issues.push({ path: path.join('.'), message: mismatch(type, input) });
      }
      return ms ?? input;
    }
    default:
      return input;
  }
}

function normalizeRecord(type: RecordLike, input: unknown, path: string[], issues: ContractIssue[]): unknown {
  if (!isPlainObject(input)) {
    issues.push({ path: path.join('.'), message: mismatch(type, input) });
    return input;
  }
  const known = new Set(type.fields.map((field) => field.name));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) issues.push({ path: [...path, key].join('.'), message: 'unknown field' });
  }
  const out: Record<string, unknown> = {};
  for (const field of type.fields) {
    const fieldPath = [...path, field.name];
    const raw = input[field.name];
    if (raw !== undefined) {
      out[field.name] = normalize(field.type, raw, fieldPath, issues);
      continue;
    }
    const fallback = field.defaultValue();
    if (fallback !== undefined) out[field.name] = fallback;
    else if (isNullable(field.type)) out[field.name] = null;
    else issues.push({ path: fieldPath.join('.'), message: 'missing required field' });
  }
  return out;
}

function plain(type: Type, value: unknown, times: 'iso' | 'millis'): JsonValue {
  switch (type.typeName) {
    case 'record':
    case 'error': {
      const record = value as Record<string, unknown>;
      const out: Record<string, JsonValue> = {};
      for (const field of (type as RecordLike).fields) out[field.name] = plain(field.type, record[field.name], times);
      return out;
    }
    case 'union:unwrapped': {
      if (value === null || value === undefined) return null;
      const branches = (type as UnionLike).types.filter((branch) => branch.typeName !== 'null');
      const branch = branches.length === 1 ? branches[0] : branches.find((b) => b.isValid(value));
      return branch === undefined ? (value as JsonValue) : plain(branch, value, times);
    }
    case 'array':
      return (value as unknown[]).map((item) => plain((type as ArrayLike).itemsType, item, times));
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plain((type as MapLike).valuesType, v, times)]));
    case TIMESTAMP_MILLIS:
      return times === 'iso' ? new Date(value as number).toISOString() : (value as number);
    case 'bytes':
    case 'fixed':
      return (value as Buffer).toString('base64');
    default:
      return value as JsonValue;
  }
}

function fits(type: Type, input: unknown): boolean {
  const scratch: ContractIssue[] = [];
  const value = normalize(type, input, [], scratch);
  return scratch.length === 0 && type.isValid(value);
}

function isNullable(type: Type): boolean {
  return type.typeName === 'null' || (type.typeName.startsWith('union') && (type as UnionLike).types.some((b) => b.typeName === 'null'));
}

function mismatch(type: Type, value: unknown): string {
  return value === undefined ? 'missing required field' : `expected ${describe(type)}, got ${show(value)}`;
}

function describe(type: Type): string {
  switch (type.typeName) {
    case 'enum':
      return `one of ${(type as EnumLike).symbols.join('|')}`;
    case 'int':
      return 'an int (32-bit integer)';
    case 'long':
      return 'a long (safe integer)';
    case 'record':
    case 'error':
      return `an object (${type.name ?? 'record'})`;
    case 'array':
      return 'an array';
    case 'map':
      return 'an object (map)';
    case TIMESTAMP_MILLIS:
      return 'an ISO-8601 time or epoch milliseconds';
    case 'union:unwrapped':
    case 'union:wrapped':
      return (type as UnionLike).types
        .map(describe)
        .sort((a, b) => Number(a === 'null') - Number(b === 'null'))
        .join(' or ');
    default:
      return type.typeName;
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

// Narrow views of avsc's type classes (its typings declare these members on the concrete classes only).
interface FieldLike {
  name: string;
  type: Type;
  defaultValue(): unknown;
}
type RecordLike = Type & { fields: FieldLike[] };
type UnionLike = Type & { types: Type[] };
type ArrayLike = Type & { itemsType: Type };
type MapLike = Type & { valuesType: Type };
type EnumLike = Type & { symbols: string[] };
