import assert from 'node:assert/strict';
import { test } from '@fast-check/vitest';
import { describe, it } from 'vitest';
import { docJson } from './doc-json.ts';
import type { ProfileDoc } from './doc.ts';
import { eventFragment, sortUnique } from './fold.ts';
import { joinAll } from './join.ts';
import { docArb, eventsArb } from './testing/arbitraries.ts';

describe('docJson: JSON.stringify of a document, unchanged sections kept (fast-check)', () => {
  test.prop([docArb, docArb], { numRuns: 500 })('to the byte, alone and after any other document', (doc, other) => {
    assert.equal(docJson(doc), JSON.stringify(doc));
    assert.equal(docJson(doc), JSON.stringify(doc), 'again, once it kept its sections');
    assert.equal(docJson(other, doc), JSON.stringify(other));
  });

  test.prop([eventsArb(40)], { numRuns: 300 })('to the byte after every event of a stream folded as a stitcher does', (events) => {
    let doc: ProfileDoc = {};
    for (const e of sortUnique(events)) {
      const previous = doc;
      doc = joinAll([doc, eventFragment(e.topic, e.event, e.ids)]);
      assert.equal(docJson(doc, previous), JSON.stringify(doc));
    }
  });

  it('keeps a section by its object: what the previous document had, unchanged, is not serialised again', () => {
    const support = { csat_sum: 9, csat_count: 2 };
    const previous: ProfileDoc = { hw: 1, support };
    assert.equal(docJson(previous), '{"hw":1,"support":{"csat_sum":9,"csat_count":2}}');
    // the same object (which a real document never changes) gives what was kept with the previous document
    support.csat_sum = 3;
    assert.equal(docJson({ hw: 2, support }, previous), '{"hw":2,"support":{"csat_sum":9,"csat_count":2}}');
    // without it, or with another object, it is serialised
    assert.equal(docJson({ hw: 2, support }), '{"hw":2,"support":{"csat_sum":3,"csat_count":2}}');
    assert.equal(docJson({ hw: 2, support: { ...support } }, previous), '{"hw":2,"support":{"csat_sum":3,"csat_count":2}}');
    // what is kept is invisible: keys, JSON, clones and deep equality are as they were
    assert.deepEqual(Object.keys(previous), ['hw', 'support']);
    assert.deepEqual(previous, { hw: 1, support });
    assert.deepEqual(structuredClone(previous), previous);
  });

  it('writes a document that cannot take a property (frozen) without keeping anything', () => {
    const frozen = Object.freeze({ hw: 5 }) as ProfileDoc;
    assert.equal(docJson(frozen), '{"hw":5}');
    assert.equal(docJson({ hw: 6 }, frozen), '{"hw":6}');
  });
});
