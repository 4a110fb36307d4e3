/**
 * ContractsRegistry: Confluent Schema Registry access for the contract topics — registration with BACKWARD
 * compatibility, and encode/decode of Confluent-framed Avro (magic byte 0, 4-byte schema id, Avro body)
 * from/to the plain-JSON shape.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Resolver, Type } from 'avsc';
import { avroOptions, avroType, isAvroType } from './avro.ts';
import { ContractError } from './errors.ts';
import { fromPlainJson, toPlainJson } from './json.ts';
import { findTopic, resolveTopics } from './topics.ts';
import type { TopicSpec, TopicTable } from './topics.ts';

export interface ContractsRegistryOptions {
  /** Base URL of the schema registry, e.g. `http://localhost:8081`. */
  host: string;
  /** Topic table (env overrides / test prefix applied). Default: resolveTopics() — the default names. */
  topics?: TopicTable;
  auth?: { username: string; password: string };
  clientId?: string;
  /** HTTP retry of registry calls (the client's defaults: 3 retries within 5 s). */
  retry?: { retries?: number; maxRetryTimeInSecs?: number; initialRetryTimeInSecs?: number };
}

export interface RegisteredSubject {
  topic: string;
  subject: string;
  id: number;
}

export interface DecodedValue<T = Record<string, unknown>> {
  schemaId: number;
  /** Subject of the schema id, when this client registered or looked it up. */
  subject?: string;
  /** Plain-JSON shape (generated interfaces: times as epoch ms). */
  value: T;
}

export interface DecodeOptions {
  /** Topic (name or id) the bytes came from: decode into its current schema (Avro schema resolution). */
  topic?: string;
}

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** Where frameAvro writes: grown to the largest value seen (a profile change is a few KiB). */
let scratch = Buffer.allocUnsafe(64 << 10);

/**
 * A value as Confluent-framed Avro (magic byte, schema id, body): the same bytes as the registry client's encode,
 * written once. The client's `toBuffer` writes a value over avsc's 1 KiB buffer twice (the second time into a
 * zero-filled buffer of the right size) and then copies it behind the header (issue 12: every profile change).
 */
export function frameAvro(type: Type, id: number, value: unknown): Buffer {
  for (;;) {
    scratch[0] = MAGIC_BYTE;
    scratch.writeInt32BE(id, 1);
    const end = type.encode(value, scratch, HEADER_BYTES);
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end)); // -end: the bytes it was short
  }
}
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class ContractsRegistry {
  readonly host: string;
  readonly topics: TopicTable;
  private readonly client: SchemaRegistry;
  private readonly authHeader: string | undefined;
  private readonly latestIds = new Map<string, Promise<number>>();
  private readonly subjectsById = new Map<number, string>();
  private readonly resolvers = new Map<string, Resolver>();
  /** Schemas by id, as promises: a burst of first decodes shares one fetch and one parse of the schema. */
  private readonly schemas = new Map<number, Promise<Type>>();

  constructor(options: ContractsRegistryOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
    this.host = validHost(options.host);
    this.topics = options.topics ?? resolveTopics();
    if (options.auth !== undefined && (typeof options.auth.username !== 'string' || typeof options.auth.password !== 'string')) {
      throw invalidOption('auth', 'must be { username: string, password: string }');
    }
    const { username, password } = options.auth ?? {};
    this.authHeader = options.auth ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
    this.client = new SchemaRegistry(
      {
        host: this.host,
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.clientId ? { clientId: options.clientId } : {}),
        ...(options.retry ? { retry: options.retry } : {}),
      },
      { [SchemaType.AVRO]: avroOptions() },
    );
  }

  /** Registers every topic's schema under `<topic>-value`, setting the subject to BACKWARD first. */
  async registerAll(topics: TopicTable = this.topics): Promise<RegisteredSubject[]> {
    const registered: RegisteredSubject[] = [];
    for (const spec of Object.values(topics)) {
      await this.setBackward(spec.subject);
      const { id } = await this.call(`register ${spec.subject}`, () =>
        this.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(spec.schema) }, { subject: spec.subject }),
      );
      this.latestIds.set(spec.subject, Promise.resolve(id));
      this.subjectsById.set(id, spec.subject);
      registered.push({ topic: spec.topic, subject: spec.subject, id });
    }
    return registered;
  }

  /** Validates plain JSON against the topic's schema, then encodes it with the subject's latest schema id. */
  async encode(topic: string, value: unknown): Promise<Buffer> {
    const spec = findTopic(this.topics, topic);
    return this.encodeAvro(spec, fromPlainJson(spec.schema, value));
  }

  /**
   * Encodes a value the caller built itself in the Avro-value shape (every field present, nullable ones as null,
   * times as epoch ms), skipping the plain-JSON normalisation and validation of encode. avsc still checks every
   * value's type while writing it: a value that does not fit throws the same ContractError `invalid_event`.
   */
  async encodeTrusted(topic: string, avroValue: unknown): Promise<Buffer> {
    return this.encodeAvro(findTopic(this.topics, topic), avroValue);
  }

  private async encodeAvro(spec: TopicSpec, avroValue: unknown): Promise<Buffer> {
    const id = await this.latestId(spec.subject);
    // The schema fetched and parsed once (schema()): the client's encode would fetch and parse it for every caller
    // waiting on its first fetch (a stitcher's first chunk: ~1,600 fetches of one schema, issue 12).
    const type = await this.schema(id);
    try {
      return frameAvro(type, id, avroValue);
    } catch (err) {
      // As the registry client's encode: whatever avsc refused, the paths that do not fit the schema named.
      const paths: string[] = [];
      type.isValid(avroValue, { errorHook: (path) => paths.push(path.join('.')) });
      const message = `value does not fit the latest schema of ${spec.subject} (id ${id}) at ${paths.join(', ') || 'the top level'}`;
      throw new ContractError('invalid_event', message, { path: paths[0] ?? '', cause: err });
    }
  }

  /** Decodes Confluent-framed Avro into the plain-JSON shape. */
  async decode<T = Record<string, unknown>>(buffer: Uint8Array, options: DecodeOptions = {}): Promise<DecodedValue<T>> {
    const { schemaId, subject, value, type } = await this.decodeAvro(buffer, options);
    const plain = toPlainJson(type, value, { times: 'millis' }) as T;
    return subject === undefined ? { schemaId, value: plain } : { schemaId, subject, value: plain };
  }

  /**
   * Like decode, without the copy into plain objects: the value is avsc's decoded Avro value, which with these
   * avsc options already has the generated-interface shape (unions `["null", T]` unwrapped, times as epoch ms,
   * every field present) but whose records are avsc record instances. For hot paths that only read the value.
   */
  async decodeRaw<T = Record<string, unknown>>(buffer: Uint8Array, options: DecodeOptions = {}): Promise<DecodedValue<T>> {
    const { schemaId, subject, value } = await this.decodeAvro(buffer, options);
    return subject === undefined ? { schemaId, value: value as T } : { schemaId, subject, value: value as T };
  }

  private async decodeAvro(buffer: Uint8Array, options: DecodeOptions): Promise<{ schemaId: number; subject: string | undefined; value: unknown; type: Type }> {
    const bytes = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
    if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_BYTE) {
      throw new ContractError('not_confluent_framed', `not Confluent-framed Avro: need magic byte 0 and a 4-byte schema id (got ${bytes.length} bytes)`);
    }
    const schemaId = bytes.readInt32BE(1);
    const reader = options.topic === undefined ? undefined : avroType(findTopic(this.topics, options.topic).schema);
    const writer = await this.schema(schemaId);
    let decoded: unknown;
    try {
      decoded =
        reader === undefined
          ? writer.fromBuffer(bytes.subarray(HEADER_BYTES))
          : reader.fromBuffer(bytes.subarray(HEADER_BYTES), this.resolver(reader, writer, schemaId));
    } catch (err) {
      throw new ContractError('avro_decode_failed', `schema id ${schemaId}: ${(err as Error).message}`, { cause: err });
    }
    return { schemaId, subject: this.subjectsById.get(schemaId), value: decoded, type: reader ?? writer };
  }

  /** Latest schema id of a subject (cached; the cache is filled by registerAll too). */
  async latestId(subject: string): Promise<number> {
    let id = this.latestIds.get(subject);
    if (id === undefined) {
      id = this.call(`latest id of ${subject}`, () => this.client.getLatestSchemaId(subject));
      this.latestIds.set(subject, id);
      id.then(
        (found) => this.subjectsById.set(found, subject),
        () => this.latestIds.delete(subject),
      );
    }
    return id;
  }

  private schema(id: number): Promise<Type> {
    let p = this.schemas.get(id);
    if (p === undefined) {
      // The registry client caches too, but every caller waiting on its first fetch parses the schema again
      // (thousands at a consumer's start). A failure is not cached: the next call asks again.
      p = this.call(`schema id ${id}`, () => this.client.getSchema(id), id).then((schema) => {
        if (!isAvroType(schema)) throw new ContractError('avro_decode_failed', `schema id ${id} is not an Avro schema`);
        return schema;
      });
      this.schemas.set(id, p);
      p.catch(() => this.schemas.delete(id));
    }
    return p;
  }

  private resolver(reader: Type, writer: Type, id: number): Resolver {
    const key = `${reader.name ?? ''}@${id}`;
    let resolver = this.resolvers.get(key);
    if (resolver === undefined) {
      try {
        resolver = reader.createResolver(writer);
      } catch (err) {
        throw new ContractError('avro_decode_failed', `schema id ${id} cannot be read as ${reader.name ?? 'reader'}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.resolvers.set(key, resolver);
    }
    return resolver;
  }

  private async setBackward(subject: string): Promise<void> {
    const url = `${this.host}/config/${encodeURIComponent(subject)}`;
    const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE };
    if (this.authHeader !== undefined) headers.authorization = this.authHeader;
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ compatibility: 'BACKWARD' }) });
    } catch (err) {
      throw new ContractError('registry_error', `PUT ${url}: ${(err as Error).message}`, { retriable: true, cause: err });
    }
    if (!response.ok) {
      const text = await response.text();
      throw new ContractError('registry_error', `PUT ${url}: ${response.status} ${text}`, { retriable: response.status >= 500 });
    }
  }

  /** Runs a registry-client call, mapping its errors to ContractError. */
  private async call<T>(what: string, run: () => Promise<T>, schemaId?: number): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw registryError(what, err, schemaId);
    }
  }
}

/** Maps a registry-client error to ContractError (404 on a schema id → unknown_schema_id). */
function registryError(what: string, err: unknown, schemaId?: number): ContractError {
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  if (schemaId !== undefined && status === 404) {
    return new ContractError('unknown_schema_id', `schema id ${schemaId} is not in the registry`, { cause: err });
  }
  const retriable = typeof status !== 'number' || status >= 500;
  return new ContractError('registry_error', `${what}: ${err instanceof Error ? err.message : String(err)}`, { retriable, cause: err });
}

function validHost(host: unknown): string {
  if (typeof host !== 'string' || host === '') throw invalidOption('host', 'is required (e.g. http://localhost:8081)');
  let url: URL;
  try {
    url = new URL(host);
  } catch (err) {
    throw invalidOption('host', `${JSON.stringify(host)} is not a URL`, err);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption('host', `${JSON.stringify(host)} must be http(s)`);
  return host.replace(/\/+$/, '');
}

function invalidOption(name: string, problem: string, cause?: unknown): ContractError {
  return new ContractError('invalid_options', `ContractsRegistry option ${name} ${problem}`, { path: name, cause });
}
