/**
 * How fast this host's cores are, as the time of a fixed single-thread workload: hosts of the same machine kind (the
 * same CPU model and count) ran the same code and bench with 40 % less CPU per event on one session's host than on
 * others (issue 12, seventh round), and twice as fast again on another day. A bench measures it once, at its start
 * (before its load), and prints it under every CPU table, so figures are compared only between hosts of about the
 * same speed.
 */

/** A profile-like document: what the stitcher and the segmenter spend their time on is JSON of documents like it. */
function sampleDoc(i: number): Record<string, unknown> {
  const events: Record<string, number> = {};
  for (let k = 0; k < 20; k++) events[`page_view.${k}`] = (i * 31 + k) % 97;
  return {
    hw: 1_700_000_000_000 + i,
    identity: { emails: { [`someone.${i}@example.com`]: 1_700_000_000_000 + i }, user_ids: { [`u_${i}`]: 1_700_000_000_000 + i } },
    activity: { first_seen_at: 1_700_000_000_000, last_seen_at: 1_700_000_000_000 + i, events },
    transactions: { revenue_minor: { GBP: i * 1999 }, orders: { [`o_${i}`]: { currency: { v: 'GBP', t: i, id: `e_${i}` }, completed_minor: 1999 } } },
  };
}

/** One pass of the workload: JSON out and back of 4,000 documents, and a sort (ms of wall time on an idle core). */
function pass(): number {
  const t0 = performance.now();
  let check = 0;
  for (let i = 0; i < 4_000; i++) {
    const back = JSON.parse(JSON.stringify(sampleDoc(i))) as { hw: number };
    check += back.hw & 1;
  }
  const xs = Array.from({ length: 50_000 }, (_, i) => (i * 2_654_435_761) % 1_000_003);
  xs.sort((a, b) => a - b);
  if (check < 0 || xs[0]! < 0) throw new Error('unreachable: keeps the work from being optimised away');
  return performance.now() - t0;
}

let measured: number | undefined;

/** The workload's time on this host, ms: the least of five passes after a warm-up (measured once per process). */
export function hostSpeedMs(): number {
  if (measured === undefined) {
    pass();
    measured = Math.min(...Array.from({ length: 5 }, pass));
  }
  return measured;
}

/** The line printed under CPU tables. */
export function hostSpeedLine(): string {
  return `host speed: a fixed single-thread workload (JSON of 4,000 profile-like documents and a sort) took ${hostSpeedMs().toFixed(1)} ms at the bench's start (less is a faster core; compare figures only between hosts of about the same speed)`;
}
