/**
 * How fast this host's cores are, as the time of a fixed single-thread workload: hosts of the same machine kind (the
 * same CPU model and count) ran the same code and bench with 40 % less CPU per event on one session's host than on
 * others (issue 12, seventh round), and one ran it at half the speed of the session before (1 December 2026). A bench measures it once, at its start
 * (before its load), and prints it under every CPU table, so figures are compared only between hosts of about the
 * same speed.
 */

/**
 * One pass of the workload: 30 million rounds of an integer hash and a sort of 300,000 numbers, ms of wall time. It
 * allocates nothing in its loop: the time is the core's own (a workload of JSON documents varied by half between
 * processes on one idle host, with how much of the other core its collector and compiler threads got).
 */
function pass(): number {
  const t0 = performance.now();
  let h = 0x811c9dc5 | 0;
  let x = 123_456_789;
  for (let i = 0; i < 30_000_000; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    h = Math.imul(h ^ (x & 0xff), 16_777_619);
  }
  const a = new Float64Array(300_000);
  for (let i = 0; i < a.length; i++) a[i] = ((i * 2_654_435_761) % 1_000_003) / 7;
  a.sort();
  if (h === 42 && a[0]! < 0) throw new Error('unreachable: keeps the work from being optimised away');
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
  return `host speed: a fixed single-thread workload (an integer hash and a sort) took ${hostSpeedMs().toFixed(1)} ms at the bench's start (less is a faster core; compare figures only between hosts of about the same speed)`;
}
