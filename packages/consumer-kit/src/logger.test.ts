import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'vitest';
import { createLogger } from './logger.ts';

test('e-mail and phone never reach a log line, at any depth the pipeline logs them', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ name: 'unit', destination });
  log.info({ email: 'a@b.c', event: { phone: '+4477', user_id: 'u1' }, profile: { identity: { emails: ['x@y.z'] } } }, 'hello');
  const out = lines.join('');
  assert.doesNotMatch(out, /a@b\.c|\+4477|x@y\.z/);
  assert.match(out, /\[redacted\]/);
  assert.match(out, /"user_id":"u1"/);
});
