import avro from 'avsc';
import type { ForSchemaOptions, Schema, Type } from 'avsc';

/** Shape of a top-level record schema as written in schemas/*.avsc (and as the generated `XSchema` consts). */
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace?: string;
  readonly doc?: string;
  readonly fields: readonly AvroFieldSchema[];
}

export interface AvroFieldSchema {
  readonly name: string;
  readonly type: unknown;
  readonly doc?: string;
  readonly default?: unknown;
}

/**
 * `timestamp-millis` stays a plain number of epoch milliseconds in Avro values (no Date objects), so Avro values
 * are the plain-JSON shape of the generated interfaces. The logical type exists only so that a type tree (also
 * one fetched from the registry) still says which longs are timestamps: its typeName is `logical:timestamp-millis`.
 */
class TimestampMillis extends avro.types.LogicalType {
  protected override _fromValue(value: number): number {
    return value;
  }

  protected override _toValue(value: unknown): number | undefined {
    return typeof value === 'number' ? value : undefined;
  }

  protected override _resolve(writer: Type): ((value: number) => number) | undefined {
    return avro.Type.isType(writer, 'long', 'logical:timestamp-millis') ? (value) => value : undefined;
  }
}

export const TIMESTAMP_MILLIS = 'logical:timestamp-millis';

/**
 * avsc options for every type here and for the registry client: unions `["null", T]` stay unwrapped, timestamps
 * are numbers. A fresh object each call, because avsc's forSchema writes its type registry into the options.
 */
export function avroOptions(): Partial<ForSchemaOptions> {
  return { wrapUnions: 'auto', logicalTypes: { 'timestamp-millis': TimestampMillis } };
}

const types = new WeakMap<AvroRecordSchema, Type>();

/** The avsc type of a schema (cached per schema object). */
export function avroType(schema: AvroRecordSchema): Type {
  let type = types.get(schema);
  if (type === undefined) {
    type = avro.Type.forSchema(schema as unknown as Schema, avroOptions());
    types.set(schema, type);
  }
  return type;
}

export function isAvroType(value: unknown): value is Type {
  return avro.Type.isType(value);
}
