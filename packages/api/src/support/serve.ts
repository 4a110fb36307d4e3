/**
 * The support agent's page, `GET /support`: a static page with its script and style (this folder), read once when the
 * API is built. The service runs these sources as they are (Node type stripping; the Docker image copies packages/
 * whole), so nothing is copied at build time. The page itself needs no key: it asks for one and sends it as a Bearer
 * header on each data call. The CSP allows only this origin's script, style and API: no inline script or style, no
 * form submission (the forms are handled by the script, so a key or a search never lands in a URL).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

export const SUPPORT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Served path → file in this folder and its media type. */
export const SUPPORT_ASSETS = {
  '/support': ['index.html', 'text/html; charset=utf-8'],
  '/support/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/support/panels.js': ['panels.js', 'text/javascript; charset=utf-8'],
  '/support/app.css': ['app.css', 'text/css; charset=utf-8'],
  // Without an icon of its own the browser asks for /favicon.ico, which (like any unknown path) needs a key: a 401.
  '/support/icon.svg': ['icon.svg', 'image/svg+xml'],
} as const;

const HEADERS = {
  'content-security-policy': SUPPORT_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function registerSupportPage(app: FastifyInstance): void {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  for (const [path, [file, type]] of Object.entries(SUPPORT_ASSETS)) {
    const body = readFileSync(`${dir}${file}`);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    app.get(path, { schema: { hide: true }, config: { public: true } }, async (req, reply) => {
      reply.headers({ ...HEADERS, etag, 'content-type': type });
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(body);
    });
  }
}
