/**
 * The demo's last step: the support agent's page. The profile API is started in the demo's process unless one already
 * answers on PROFILE_API_PORT, and a `read` key is made for it (printed once, like `apikey create`). The page's
 * timeline reads the demo's warehouse through its ops port, so the warehouse runs as long as the page is served.
 */
import { ApiKeyStore } from '@profile-stream/api/keys';
import type { RunningProfileApi } from '@profile-stream/api';
import { createRedis } from '@profile-stream/profile';
import type { CliContext } from '../context.ts';

export interface SupportPage {
  url: string;
  key: string;
  /** True when the demo started the API (it stops with the demo); false when one was running already. */
  started: boolean;
  stop(): Promise<void>;
}

async function answers(base: string): Promise<boolean> {
  return fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
}

export async function openSupportPage(ctx: CliContext, warehouseOpsPort: number): Promise<SupportPage> {
  const { loadProfileApiConfig, startProfileApi } = await import('@profile-stream/api');
  const cfg = loadProfileApiConfig({ ...ctx.env, LOG_LEVEL: 'error', WAREHOUSE_OPS_PORT: String(warehouseOpsPort) });
  const host = cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
  let api: RunningProfileApi | undefined;
  let port = cfg.port;
  if (cfg.port === 0 || !(await answers(`http://${host}:${cfg.port}`))) {
    api = await startProfileApi(cfg);
    port = api.port;
  }
  const redis = createRedis(ctx.conn.redis.url);
  try {
    const made = await new ApiKeyStore({ redis, prefix: ctx.redisPrefix }).create({ scopes: ['read'], name: 'demo support page' });
    return { url: `http://${host}:${port}/support`, key: made.key, started: api !== undefined, stop: async () => api?.stop() };
  } finally {
    redis.disconnect();
  }
}

/** Resolves on the first SIGINT or SIGTERM (the demo then stops what it started and exits 0). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((res) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      res(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
