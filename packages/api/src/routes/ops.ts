/**
 * `/health` (no key: 200 or 503 with Redis checked), `/metrics` (scope admin) and `/docs` (any key): the OpenAPI 3.1
 * document generated from the route schemas, or with `Accept: text/html` a plain page listing the routes.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { ApiMetrics } from '../metrics.ts';
import { docsSchema, healthSchema, metricsSchema } from '../schemas.ts';

/** A health check answers within this, or Redis counts as down. */
const HEALTH_TIMEOUT_MS = 1000;

async function redisUp(redis: Redis): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), HEALTH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([redis.ping().then((p) => p === 'PONG'), late]);
  } catch {
    return false; // unreachable is what the check reports
  } finally {
    clearTimeout(timer);
  }
}

const html = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

type OpenApi = { info: { title: string }; paths?: Record<string, Record<string, { summary?: string }>> };

function docsPage(doc: OpenApi): string {
  const rows = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => `<tr><td>${method.toUpperCase()}</td><td><code>${html(path)}</code></td><td>${html(op.summary ?? '')}</td></tr>`),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(doc.info.title)}</title></head><body>
<h1>${html(doc.info.title)}</h1><p>The OpenAPI 3.1 document is this URL as JSON.</p>
<table><caption>Routes</caption><thead><tr><th scope="col">method</th><th scope="col">path</th><th scope="col">what</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>`;
}

export function registerOpsRoutes(app: FastifyInstance, d: { redis: Redis; metrics: ApiMetrics }): void {
  app.get('/health', { schema: healthSchema, config: { public: true, rateLimit: false } }, async (_req, reply) => {
    const checks = { redis: await redisUp(d.redis) };
    const ok = Object.values(checks).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unhealthy', checks });
  });

  app.get('/metrics', { schema: metricsSchema, config: { scope: 'admin' } }, async (_req, reply) =>
    reply
      .type(d.metrics.registry.contentType)
      .serializer(String)
      .send(await d.metrics.registry.metrics()),
  );

  app.get('/docs', { schema: docsSchema, config: { scope: 'any' } }, async (req, reply) => {
    const doc = app.swagger() as unknown as OpenApi;
    if (/\btext\/html\b/.test(req.headers.accept ?? '')) return reply.type('text/html; charset=utf-8').serializer(String).send(docsPage(doc));
    return doc;
  });
}
