/** Which Redis failures the consume loop retries (never dead-letters) and which it does not. */
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { asRedisError, isRetriable, ProfileStreamError, TRANSIENT_REDIS_REPLIES } from './errors.ts';

/** An error reply as ioredis gives it (redis-errors' ReplyError: name 'ReplyError', the reply as message). */
function reply(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

test('transient error replies (busy script, loading, failover, cluster moving, persistence, memory) are retriable', () => {
  const replies = [
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
    'LOADING Redis is loading the dataset in memory',
    "READONLY You can't write against a read only replica.",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    'NOREPLICAS Not enough good replicas to write.',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk.",
    "OOM command not allowed when used memory > 'maxmemory'.",
  ];
  assert.equal(replies.length, TRANSIENT_REDIS_REPLIES.length);
  for (const m of replies) {
    const err = asRedisError(reply(m));
    assert.ok(err instanceof ProfileStreamError, m);
    assert.equal(err.code, 'dependency_unavailable');
    assert.equal(isRetriable(err), true, m);
  }
});

test('a script error is a bug: not retriable, passed through as it is', () => {
  const err = reply('ERR user_script:12: Script attempted to access nonexistent global variable');
  assert.equal(asRedisError(err), err);
  assert.equal(isRetriable(asRedisError(err)), false);
  assert.equal(isRetriable(asRedisError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))), false);
});

test('connection trouble is retriable; typed errors pass through', () => {
  assert.equal(isRetriable(asRedisError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))), true);
  const typed = new ProfileStreamError('invalid_event', 'x');
  assert.equal(asRedisError(typed), typed);
  const contention = new ProfileStreamError('identity_contention', 'busy merges');
  assert.equal(asRedisError(contention), contention);
  assert.equal(isRetriable(contention), true);
});
