/** The settings machinery (declare, parse, document) and the shared settings every service and the CLI start from. */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { TOPIC_DEFAULTS } from '@profile-stream/contracts';
import { defaultValue, env, LOG_LEVELS, parseSettings, setting, settingsTables, shownDefault } from './config.ts';
import { CONNECTION_SETTINGS } from './connections.ts';
import { ConfigError } from './errors.ts';
import { loadSharedConfig, OPS_PORTS, SHARED_SETTINGS, SHARED_SETTINGS_GROUPS, TOPIC_SETTINGS } from './settings.ts';

const configError = (variable: string, message: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ConfigError, String(err));
  assert.equal(err.code, 'config_invalid');
  assert.equal(err.variable, variable);
  assert.match(err.message, message);
  return true;
};

describe('declared settings', () => {
  const decl = {
    A_PORT: setting(env.opsPort(9000), 'a port'),
    A_LIST: setting(env.list(), 'a list'),
    A_NAME: setting(env.optionalString(), 'a name', '`<host>`'),
    A_LEVEL: setting(env.logLevel(), 'a level'),
  };

  test('parse only what is declared: defaults when unset or blank, values trimmed', () => {
    assert.deepEqual(parseSettings(decl, {}), { A_PORT: 9000, A_LIST: [], A_NAME: undefined, A_LEVEL: 'info' });
    assert.deepEqual(parseSettings(decl, { A_PORT: ' 0 ', A_LIST: ' x, ,y ', A_NAME: '  ', A_LEVEL: 'debug', OTHER: '1' }), {
      A_PORT: 0,
      A_LIST: ['x', 'y'],
      A_NAME: undefined,
      A_LEVEL: 'debug',
    });
  });

  test('a bad value is a ConfigError naming the variable, what is expected and what it got', () => {
    assert.throws(() => parseSettings(decl, { A_PORT: '65536' }), configError('A_PORT', /^A_PORT: expected a TCP port number \(0-65535\) \(got "65536"\)$/));
    assert.throws(
      () => parseSettings(decl, { A_LEVEL: 'verbose' }),
      configError('A_LEVEL', /expected one of trace, debug, info, warn, error, fatal, silent \(got "verbose"\)/),
    );
  });

  test("the documented default is the schema's own, else the declared text, else unset", () => {
    assert.equal(shownDefault(decl.A_PORT), '9000');
    assert.equal(shownDefault(decl.A_LIST), '(none)');
    assert.equal(shownDefault(decl.A_NAME), '`<host>`');
    assert.equal(shownDefault(decl.A_LEVEL), '`info`');
    assert.equal(shownDefault(setting(env.optionalString(), 'x')), 'unset');
    assert.equal(shownDefault(setting(env.string('a|b'), 'x')), '`a|b`');
  });

  test('the table has a row per variable in declaration order, pipes escaped', () => {
    const md = settingsTables([{ title: 'T', source: 'src/x.ts', settings: { ...decl, B: setting(env.string('a|b'), 'one | two') } }]);
    const rows = md.split('\n').filter((l) => l.startsWith('| `'));
    assert.deepEqual(
      rows.map((r) => r.split(' | ')[0]),
      ['| `A_PORT`', '| `A_LIST`', '| `A_NAME`', '| `A_LEVEL`', '| `B`'],
    );
    assert.ok(md.startsWith('**T** (`src/x.ts`)'));
    assert.ok(md.includes('| `B` | `a\\|b` | one \\| two |'));
  });
});

describe('shared settings', () => {
  test('defaults', () => {
    const s = loadSharedConfig({});
    assert.equal(s.redisPrefix, 'ps:');
    assert.equal(s.logLevel, 'info');
    assert.equal(s.defaultRegion, 'GB');
    assert.deepEqual(s.junkIds, []);
    assert.equal(s.maxFutureMs, 24 * 3_600_000);
    assert.equal(s.conn.redis.url, 'redis://127.0.0.1:6379');
    assert.equal(s.topics.clickstream.topic, 'clickstream');
    assert.equal(s.topics.clickstream.dlq, 'clickstream.dlq');
  });

  test('values', () => {
    const s = loadSharedConfig({
      REDIS_PREFIX: 'acme:',
      LOG_LEVEL: 'warn',
      PROFILE_DEFAULT_REGION: 'DE',
      PROFILE_JUNK_IDS: 'guest, test@example.com',
      PROFILE_MAX_FUTURE_HOURS: '2',
      TOPIC_CLICKSTREAM: 'acme.clicks',
      REDIS_URL: 'redis://cache:6380',
    });
    assert.equal(s.redisPrefix, 'acme:');
    assert.equal(s.logLevel, 'warn');
    assert.equal(s.defaultRegion, 'DE');
    assert.deepEqual(s.junkIds, ['guest', 'test@example.com']);
    assert.equal(s.maxFutureMs, 2 * 3_600_000);
    assert.equal(s.topics.clickstream.topic, 'acme.clicks');
    assert.equal(s.topics.clickstream.dlq, 'acme.clicks.dlq');
    assert.equal(s.topics.purchases.topic, 'purchases');
    assert.equal(s.conn.redis.url, 'redis://cache:6380');
  });

  test('a bad value fails naming the variable, whichever group declares it', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /expected one of trace, debug/],
      [{ REDIS_PREFIX: 'a{b}:' }, 'REDIS_PREFIX', /may not contain \{ or \}/],
      [{ PROFILE_DEFAULT_REGION: 'gb' }, 'PROFILE_DEFAULT_REGION', /ISO 3166-1 alpha-2/],
      [{ PROFILE_MAX_FUTURE_HOURS: 'soon' }, 'PROFILE_MAX_FUTURE_HOURS', /expected an integer/],
      [{ REDIS_PORT: '0' }, 'REDIS_PORT', /1-65535/],
      [{ TOPIC_PARTITIONS: 'many' }, 'TOPIC_PARTITIONS', /expected an integer/],
    ];
    for (const [e, variable, message] of cases) assert.throws(() => loadSharedConfig(e), configError(variable, message));
  });

  test('a bad topic name fails naming its variable', () => {
    assert.throws(() => loadSharedConfig({ TOPIC_PURCHASES: 'no spaces allowed' }), /TOPIC_PURCHASES: .*not a legal topic name/);
  });

  test("every topic has its override variable, defaulting to the topic's own name", () => {
    const topics = Object.values(TOPIC_DEFAULTS);
    assert.deepEqual(Object.keys(TOPIC_SETTINGS).sort(), topics.map((t) => t.envVar).sort());
    for (const t of topics) assert.equal(defaultValue(TOPIC_SETTINGS[t.envVar]!), t.topic);
  });

  test('no two services share a default ops port', () => {
    const ports = Object.values(OPS_PORTS);
    assert.equal(new Set(ports).size, ports.length);
  });

  test("LOG_LEVEL accepts exactly the logger's levels", () => {
    for (const level of LOG_LEVELS) assert.equal(loadSharedConfig({ LOG_LEVEL: level }).logLevel, level);
    assert.throws(() => loadSharedConfig({ LOG_LEVEL: 'INFO' }), configError('LOG_LEVEL', /expected one of/));
  });

  test('the documented groups are the declarations loadSharedConfig parses', () => {
    assert.deepEqual(
      SHARED_SETTINGS_GROUPS.map((g) => g.settings),
      [CONNECTION_SETTINGS, SHARED_SETTINGS, TOPIC_SETTINGS],
    );
  });
});
