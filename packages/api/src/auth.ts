/**
 * Who may call what: every route but `/health` needs a valid bearer key (401 with `WWW-Authenticate: Bearer`), and a
 * route that names a scope needs a key holding it (403). Routes declare it in their config:
 *   { scope: 'read' }   a key with the read scope      { scope: 'any' }   any valid key      { public: true }   no key
 * Runs on onRequest, before the body is read, so an unauthorised request costs one Redis read at most.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from './problem.ts';
import { type ApiKeyRecord, type ApiKeyStore, bearerToken, type Scope } from './keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord | null;
  }
  interface FastifyContextConfig {
    scope?: Scope | 'any';
    public?: boolean;
  }
}

export function registerAuth(app: FastifyInstance, keys: ApiKeyStore): void {
  app.decorateRequest('apiKey', null);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const config = req.routeOptions.config;
    if (config.public) return;
    const token = bearerToken(req.headers.authorization);
    const key = token === undefined ? undefined : await keys.verify(token);
    if (!key) {
      reply.header('www-authenticate', `Bearer realm="profile-api"${token === undefined ? '' : ', error="invalid_token"'}`);
      throw apiError('unauthorized', token === undefined ? 'an API key is required: Authorization: Bearer <key>' : 'unknown, malformed or revoked API key');
    }
    req.apiKey = key;
    // Unknown routes have no scope: any valid key learns they are not there (404), nothing more.
    const scope = config.scope ?? 'any';
    if (scope !== 'any' && !key.scopes.includes(scope))
      throw apiError('forbidden', `this route needs the ${scope} scope; the key has ${key.scopes.join(', ')}`);
  });
}
