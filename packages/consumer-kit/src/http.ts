/**
 * `/health` (200 when every check passes, else 503, with the checks as JSON) and `/metrics` (Prometheus); a
 * service may serve more paths with `extra` (it returns false for paths it does not know: 404).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type HealthCheck = () => boolean | Promise<boolean>;

export interface OpsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export async function startOpsServer(o: {
  port: number;
  host?: string;
  registry: Registry;
  checks: Record<string, HealthCheck>;
  extra?: ExtraRoutes;
}): Promise<OpsServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      const results: Record<string, boolean> = {};
      for (const [name, check] of Object.entries(o.checks)) {
        try {
          results[name] = await check();
        } catch {
          results[name] = false;
        }
      }
      const okAll = Object.values(results).every(Boolean);
      res.writeHead(okAll ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: okAll ? 'ok' : 'unhealthy', checks: results }));
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': o.registry.contentType });
      res.end(await o.registry.metrics());
    } else if (!(o.extra && (await o.extra(req, res)))) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found', paths: ['/health', '/metrics'] }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', resolve);
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
