import assert from 'node:assert/strict';
import { test } from 'vitest';
import { startOpsServer } from './http.ts';
import { createKitMetrics } from './metrics.ts';

test('/health answers 200 when all checks pass and 503 naming the failing one; /metrics is Prometheus text', async () => {
  let kafkaOk = true;
  const metrics = createKitMetrics('unit');
  metrics.messages.inc({ topic: 'clickstream', outcome: 'ok' }, 3);
  const ops = await startOpsServer({ port: 0, registry: metrics.registry, checks: { kafka: () => kafkaOk, redis: async () => true } });
  try {
    const base = `http://127.0.0.1:${ops.port}`;
    const h1 = await fetch(`${base}/health`);
    assert.equal(h1.status, 200);
    assert.deepEqual(await h1.json(), { status: 'ok', checks: { kafka: true, redis: true } });
    kafkaOk = false;
    const h2 = await fetch(`${base}/health`);
    assert.equal(h2.status, 503);
    assert.deepEqual(((await h2.json()) as { checks: unknown }).checks, { kafka: false, redis: true });
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /ps_messages_total\{topic="clickstream",outcome="ok",service="unit"\} 3/);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await ops.close();
  }
});
