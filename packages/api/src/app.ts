/**
 * The profile API as a fastify instance built from its dependencies (no listening, no globals), so tests `inject`
 * requests into it and the service (start.ts) listens with it. Order matters: the schemas and swagger first (swagger
 * collects routes as they are added), then auth (onRequest), the rate limit per key (preHandler, so it knows the key),
 * then the routes.
 */
import { fastifyRateLimit } from '@fastify/rate-limit';
import { fastifySwagger } from '@fastify/swagger';
import { fastify, type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '@profile-stream/consumer-kit';
import { MAX_REF_LENGTH, type NormaliseOptions, type ProfileStore } from '@profile-stream/profile';
import type { MembershipStore } from '@profile-stream/segmenter';
import type { SegmentDefinition } from '@profile-stream/segments';
import { registerAuth } from './auth.ts';
import type { ApiKeyStore } from './keys.ts';
import type { ApiMetrics } from './metrics.ts';
import { apiError, errorHandler } from './problem.ts';
import { registerAccountRoutes } from './routes/accounts.ts';
import { type ConsentDeps, registerConsentRoutes } from './routes/consent.ts';
import { type EraseDeps, registerEraseRoutes } from './routes/erase.ts';
import { registerMembershipRoutes } from './routes/memberships.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerProfileRoutes } from './routes/profiles.ts';
import { registerSegmentRoutes } from './routes/segments.ts';
import { registerTimelineRoutes, type TimelineSource } from './routes/timeline.ts';
import { registerSupportPage } from './support/serve.ts';
import { explanationSchema, healthBodySchema, problemSchema, profileSchema, SCOPE_DOC } from './schemas.ts';

export interface ApiDeps {
  /** Profiles, keys and the rate-limit counters live here (under `prefix`). */
  redis: Redis;
  prefix: string;
  store: ProfileStore;
  keys: ApiKeyStore;
  /** The segmenter's memberships (its prefix and SEGMENTER_SHARDS). */
  memberships: MembershipStore;
  defs: readonly SegmentDefinition[];
  /** The definitions memberships are explained with now (the segmenter's current RFM breakpoints); default `defs`. */
  current?: () => readonly SegmentDefinition[];
  normalise: NormaliseOptions;
  metrics: ApiMetrics;
  log: Logger;
  /** Requests per minute per key. */
  rateLimitPerMinute: number;
  /** The clock segments are explained by (tests pin it). */
  now?: () => number;
  /** Consent changes (`PUT /v1/profiles/:ref/consent`): where they are published; without it the route is absent. */
  consent?: Pick<ConsentDeps, 'publish'>;
  /** Erasures (`DELETE /v1/profiles/:ref`): how identifiers are hashed and where erasures are published; without it the route is absent. */
  erase?: Pick<EraseDeps, 'publish' | 'hash'>;
  /** The warehouse the timeline reads; without it `GET /v1/profiles/:ref/timeline` answers 503. */
  warehouse?: TimelineSource;
}

export async function buildApi(d: ApiDeps): Promise<FastifyInstance> {
  // Request logging is ours (onResponse below): fastify's logs the URL, which can hold an e-mail or a phone number.
  const app = fastify({
    loggerInstance: d.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A ref too long for the router would be a 404: this lets any ref reach the schema and parseRef (400).
    routerOptions: { maxParamLength: 4 * MAX_REF_LENGTH },
  });
  // Responses are JSON.stringify'd, not compiled from the schemas: the profile JSON stays the CLI's, byte for byte.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req) => {
    throw apiError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  for (const s of [problemSchema, profileSchema, healthBodySchema, explanationSchema]) app.addSchema(s);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'profile-stream profile API', version: '1.0.0', description: 'Customer profiles by any ref. Errors are RFC 9457 problem+json.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: SCOPE_DOC } } },
      security: [{ bearer: [] }],
    },
    // Shared schemas keep their $id as their component name (Profile, Problem, Health), not def-0, def-1, ….
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  registerAuth(app, d.keys);
  await app.register(fastifyRateLimit, {
    hook: 'preHandler',
    max: d.rateLimitPerMinute,
    timeWindow: 60_000,
    // Shared by every instance of the API through Redis; per key (auth ran before, on onRequest).
    redis: d.redis,
    nameSpace: `${d.prefix}ratelimit:`,
    keyGenerator: (req) => req.apiKey?.id ?? req.ip,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(apiError('rate_limited', `more than ${ctx.max} requests in a minute with this key; retry in ${Math.ceil(ctx.ttl / 1000)} s`), {
        statusCode: 429,
      }),
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    d.metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    d.metrics.seconds.observe({ route }, reply.elapsedTime / 1000);
    req.log.debug({ route, status: reply.statusCode, ms: reply.elapsedTime, key: req.apiKey?.id }, 'request');
  });

  registerProfileRoutes(app, d);
  registerAccountRoutes(app, { ...d, now: d.now ?? Date.now });
  registerSegmentRoutes(app, d);
  registerMembershipRoutes(app, { ...d, now: d.now ?? Date.now });
  registerTimelineRoutes(app, { ...d, warehouse: d.warehouse });
  if (d.consent) registerConsentRoutes(app, { ...d, publish: d.consent.publish, now: d.now ?? Date.now });
  if (d.erase) registerEraseRoutes(app, { ...d, ...d.erase });
  registerOpsRoutes(app, d);
  registerSupportPage(app);
  return app;
}
