/** The pure parts of `erase --verify`: needles, matching, redaction, the judgement of findings, and the SQL it builds. */
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { columnCondition, stringColumnKind } from './clickhouse-search.ts';
import { judge, matchText, needlesOf, redact, stringsOf, type FindingContext } from './matchers.ts';
import { prefixPattern } from './redis-search.ts';
import { isEraseRecord } from './topic-search.ts';

const PID = 'p0abcdefghij012345678';
const HASH = 'ab'.repeat(32);
const needles = needlesOf({
  identifiers: [{ type: 'email', value: 'Ann@Example.com', hash: HASH }],
  hashes: [HASH, 'cd'.repeat(32)],
  profileIds: [PID, PID, 'p1'],
});

describe('needles', () => {
  test('one needle per distinct text, lower-cased; texts under 3 characters are dropped', () => {
    assert.deepEqual(
      needles.list.map((n) => [n.kind, n.text]),
      [
        ['identifier', 'ann@example.com'],
        ['hash', HASH],
        ['hash', 'cd'.repeat(32)],
        ['profile_id', PID],
      ],
    );
  });

  test('matching ignores case and finds a value inside a longer text', () => {
    assert.deepEqual(
      matchText(needles, '{"emails":["ANN@example.COM"]}').map((n) => n.kind),
      ['identifier'],
    );
    assert.deepEqual(
      matchText(needles, `ps:p:{${PID}}:doc`).map((n) => n.text),
      [PID],
    );
    assert.deepEqual(matchText(needles, 'ann@example.co'), []);
    assert.deepEqual(matchText(needles, null), []);
  });

  test('stringsOf reaches every string of a decoded record, keys and nested JSON text included', () => {
    const s = stringsOf({ profile_id: PID, profile_json: '{"identity":{"emails":["ann@example.com"]}}', n: 3n, list: [{ deep: 'x' }], none: null });
    assert.ok(s.includes(PID));
    assert.ok(s.includes('deep') && s.includes('x') && s.includes('3'));
    assert.equal(matchText(needles, s.join('\n')).length, 2);
  });

  test('redact replaces every spelling of an identifier value, and leaves ids and hashes', () => {
    assert.equal(redact(needles, 'ps:{ps:ix}:id:email:ann@example.com|ANN@EXAMPLE.COM'), 'ps:{ps:ix}:id:email:<email>|<email>');
    assert.equal(redact(needles, `ps:p:{${PID}}:erased ${HASH}`), `ps:p:{${PID}}:erased ${HASH}`);
  });
});

describe('judge', () => {
  const id = needles.list.filter((n) => n.kind === 'identifier');
  const pseudo = needles.list.filter((n) => n.kind !== 'identifier');
  const at = (c: Partial<FindingContext> & Pick<FindingContext, 'store' | 'place'>) =>
    judge({ where: c.place, count: 1, needles: pseudo, ...c }, { redisPrefix: 'ps:' });

  test('Redis: hashes and ids are allowed in the audit, tombstones and merge log only; values nowhere', () => {
    assert.ok(at({ store: 'redis', place: 'ps:audit:erased-ids' }).exception);
    assert.ok(at({ store: 'redis', place: `ps:p:{${PID}}:erased` }).exception);
    assert.ok(at({ store: 'redis', place: 'ps:{ps:ix}:mergelog' }).exception);
    assert.equal(at({ store: 'redis', place: `ps:p:{${PID}}:doc` }).exception, undefined);
    assert.equal(at({ store: 'redis', place: 'ps:audit:erasures', needles: id }).exception, undefined);
    assert.equal(at({ store: 'redis', place: 'other:audit:x' }).exception, undefined, 'another prefix is not ours to allow');
  });

  test('ClickHouse: the erasures table may keep hashes; any other table may not', () => {
    assert.ok(at({ store: 'clickhouse', place: 'erasures' }).exception);
    assert.equal(at({ store: 'clickhouse', place: 'profiles' }).exception, undefined);
    assert.equal(at({ store: 'clickhouse', place: 'erasures', needles: id }).exception, undefined);
  });

  test('Kafka: a superseded profile-changes record is allowed until compaction is due, then it remains', () => {
    const due = Date.parse('2026-12-01T00:00:00Z');
    const before = at({ store: 'kafka', place: 'profile-changes-superseded', needles: id, dueAt: due, now: due - 1 });
    assert.equal(before.exception, 'removed by compaction by 2026-12-01T00:00:00.000Z');
    const after = at({ store: 'kafka', place: 'profile-changes-superseded', needles: id, dueAt: due, now: due + 1 });
    assert.equal(after.exception, undefined);
    assert.match(after.note ?? '', /compaction was due by 2026-12-01/);
    assert.equal(at({ store: 'kafka', place: 'profile-changes', needles: id }).exception, undefined);
    assert.ok(at({ store: 'kafka', place: 'profile-changes-erase' }).exception);
    assert.equal(at({ store: 'kafka', place: 'pseudonymous', needles: [...id, ...pseudo] }).exception, undefined);
  });

  test('Kafka: input topics, DLQs and membership traits keep values until their retention', () => {
    assert.match(at({ store: 'kafka', place: 'input', needles: id, dueAt: 0 }).exception ?? '', /retention \(by 1970-01-01/);
    assert.ok(at({ store: 'kafka', place: 'dlq', needles: id }).exception);
    assert.ok(at({ store: 'kafka', place: 'membership', needles: id }).exception);
  });

  test('a finding names what it found by label, never by value', () => {
    const f = at({ store: 'redis', place: 'ps:x', needles: [...id, ...pseudo] });
    assert.deepEqual(f.kinds, ['hash', 'identifier', 'profile_id']);
    assert.ok(!f.found.some((l) => l.includes('@')));
  });
});

describe('the places searched', () => {
  test('ClickHouse column types searched as text', () => {
    assert.equal(stringColumnKind('String'), 'string');
    assert.equal(stringColumnKind('LowCardinality(Nullable(String))'), 'string');
    assert.equal(stringColumnKind('FixedString(64)'), 'string');
    assert.equal(stringColumnKind('Array(LowCardinality(String))'), 'array');
    assert.equal(stringColumnKind('Array(UInt64)'), undefined);
    assert.equal(stringColumnKind('DateTime64(3)'), undefined);
    assert.equal(stringColumnKind('Map(String, String)'), undefined);
  });

  test('needle texts are quoted into the SQL, column names as identifiers', () => {
    assert.equal(columnCondition('e`x', 'string', ["o'brien\\"]), "multiSearchAnyCaseInsensitive(toString(ifNull(`e``x`, '')), ['o\\'brien\\\\'])");
    assert.match(columnCondition('emails', 'array', ['a@b.c']), /^arrayExists\(x -> /);
  });

  test('the Redis pattern matches the prefix literally', () => {
    assert.equal(prefixPattern('t-x.ps:'), 't-x.ps:*');
    assert.equal(prefixPattern('a*b?[c]\\'), 'a\\*b\\?\\[c\\]\\\\*');
  });

  test('an erase record is cause erase with no profile', () => {
    assert.equal(isEraseRecord({ cause: 'erase', profile_json: null }), true);
    assert.equal(isEraseRecord({ cause: 'erase', profile_json: '{}' }), false);
    assert.equal(isEraseRecord({ cause: 'event', profile_json: null }), false);
    assert.equal(isEraseRecord('erase'), false);
    assert.equal(isEraseRecord(null), false);
  });
});
