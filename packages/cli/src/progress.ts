/** A progress bar on stderr when it is a terminal (or forced); silent in pipes and CI logs. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

export function progressBar(label: string, total: number, force = false): Progress {
  if (!(force || process.stderr.isTTY) || total <= 0) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left | {rate}/s`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  bar.start(total, 0, { rate: 0 });
  return {
    update(done) {
      bar.update(done, { rate: Math.round(done / Math.max(0.001, (performance.now() - t0) / 1000)) });
    },
    stop() {
      bar.stop();
    },
  };
}
