/**
 * How `stack up` fails, through the real parts and their set-up code, without touching the running stack: each part is
 * built on its own ports and a scratch data and cache directory. A tool missing from PATH (tool_missing), a port held by
 * a process the stack did not start (port_in_use), a part whose process runs but never answers (stack_not_ready).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { createLogger, loadConnections, ProfileStreamError } from '@profile-stream/consumer-kit';
import type { ComponentContext } from './component.ts';
import { KAFKA_VERSION, kafkaComponent } from './kafka.ts';
import { spawnDetached, stopPid, which } from './proc.ts';
import { redisComponent } from './redis.ts';
import { bringUp } from './stack.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ps-stack-errors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A component context on scratch directories, with the given connection settings. */
function context(name: string, env: Record<string, string>): ComponentContext {
  const root = join(dir, name);
  const conn = loadConnections({ PS_DATA_DIR: join(root, 'data'), PS_CACHE_DIR: join(root, 'cache'), ...env });
  return { conn, log: createLogger({ name: 'test', level: 'silent' }), runDir: join(root, 'run'), logDir: join(root, 'logs') };
}

/** A Kafka part whose jars look fetched (so fetch() does nothing): what is tested is what comes after. */
function fetchedKafka(ctx: ComponentContext) {
  const libs = join(ctx.conn.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  mkdirSync(libs, { recursive: true });
  writeFileSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`), '');
  return kafkaComponent(ctx);
}

async function listen(): Promise<Server> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ProfileStreamError, `expected a ProfileStreamError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retriable, false);
    assert.match(err.message, message);
    return true;
  });
}

describe('tool_missing', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });

  /** A PATH with bash alone (the tool look-up runs `command -v` in bash). */
  function pathWithBashOnly(): string {
    const bin = join(dir, 'bash-only');
    if (!existsSync(bin)) {
      const bash = which('bash');
      assert.ok(bash, 'bash is needed to look tools up');
      mkdirSync(bin, { recursive: true });
      symlinkSync(bash, join(bin, 'bash'));
    }
    return bin;
  }

  test('Kafka without Java: fetching says how to install it', async () => {
    const kafka = kafkaComponent(context('no-java', { KAFKA_PORT: '1' })); // no jars in the scratch cache: fetch needs java
    process.env.PATH = pathWithBashOnly();
    await rejectsWith(kafka.fetch(), 'tool_missing', /^java is missing \(needed for the Kafka broker\): install Java 17\+/);
  });

  test('Redis without redis-server and no apt-get to install it: says which package to install', async () => {
    const redis = redisComponent(context('no-redis', { REDIS_PORT: '1' }));
    process.env.PATH = pathWithBashOnly();
    await rejectsWith(redis.fetch(), 'tool_missing', /^redis-server missing \(needed for profile storage\): run sudo apt-get install -y redis-server/);
  });
});

describe('port_in_use', () => {
  test("a part's port held by a process the stack did not start: the part is not started, the message names the variable", async () => {
    const squatter = await listen();
    try {
      const port = portOf(squatter);
      const kafka = fetchedKafka(context('taken', { KAFKA_PORT: String(port) }));
      const message = new RegExp(`^port ${port} \\(kafka\\) is in use by a process this stack did not start: .*set KAFKA_PORT`);
      await rejectsWith(bringUp(kafka, 5_000), 'port_in_use', message);
    } finally {
      squatter.close();
    }
  });
});

describe('stack_not_ready', () => {
  test('a part whose process runs but never answers on its port: not ready after the timeout, the message names its log', async () => {
    const free = await listen();
    const port = portOf(free);
    await new Promise((resolve) => free.close(resolve)); // nothing listens there now
    const kafka = fetchedKafka(context('silent', { KAFKA_PORT: String(port) }));
    spawnDetached({ command: 'sleep', args: ['60'], logFile: kafka.logFile, pidFile: kafka.pidFile }); // "running", per its pid file
    try {
      const t0 = Date.now();
      await rejectsWith(bringUp(kafka, 1_500), 'stack_not_ready', new RegExp(`^kafka not ready after 1.5s: [\\s\\S]*\\(see ${kafka.logFile}\\)$`));
      assert.ok(Date.now() - t0 < 10_000, 'gave up after its timeout');
    } finally {
      await stopPid(kafka.pidFile, 1_000);
    }
  });
});
