// Durations of definitions: an integer and a unit, `90s`, `15m`, `1h`, `30d`, `52w`. No months or years: their
// length varies, and a segment's exit must fall on an exact, reproducible millisecond.
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d|w)$/;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m === null ? undefined : Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export const DAY_MS = UNIT_MS.d;

/** A duration as a definition would write it (the largest unit it is a whole number of; days before weeks). */
export function formatDuration(ms: number): string {
  for (const u of ['d', 'h', 'm', 's'] as const) if (ms >= UNIT_MS[u] && ms % UNIT_MS[u] === 0) return `${ms / UNIT_MS[u]}${u}`;
  return `${ms}ms`;
}
