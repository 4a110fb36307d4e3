/**
 * vitest global set-up of the integration project: the local stack up once for every integration test (the project's
 * own stack scripts; nothing is skipped when a part is missing) and the topics provisioned; at the end what the tests
 * left is removed (`stack clean`: keys, topics and groups named t-… or bench-…; kept with PS_KEEP_DATA=1) and the
 * stack parts this run started are stopped again (kept with PS_KEEP_STACK=1).
 *
 * Why not testcontainers: no Docker engine is assumed (this project installs and runs Kafka, the registry, Redis and
 * ClickHouse itself), so the same scripts serve a laptop, CI and a fresh machine alike.
 */
import { resolveTopics } from '@profile-stream/contracts';
import { createLogger, loadConnections } from '@profile-stream/consumer-kit';
import { cleanScratch, createStack, provision, stackDown, stackUp } from '@profile-stream/infra';

export default async function setup(): Promise<() => Promise<void>> {
  const log = createLogger({ name: 'test', level: 'warn' });
  const conn = loadConnections(process.env);
  const stack = createStack(conn, log);
  const up = await stackUp(stack);
  await provision(conn, resolveTopics({ env: process.env }), log);
  process.stdout.write(
    `✔ stack up (${up.seconds.toFixed(1)} s): ${Object.entries(up.states)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n`,
  );
  return async () => {
    if (!process.env.PS_KEEP_DATA) {
      const c = await cleanScratch(conn, log);
      process.stdout.write(`✔ test data removed (${c.keys} Redis keys, ${c.topics} topics, ${c.groups} consumer groups)\n`);
    }
    const started = Object.entries(up.states)
      .filter(([, s]) => s === 'started')
      .map(([name]) => name);
    if (started.length && !process.env.PS_KEEP_STACK) await stackDown(stack, started);
  };
}
