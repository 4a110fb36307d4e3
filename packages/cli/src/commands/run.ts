/**
 * `run <service...>`: one service runs in this process; several run as child processes (one per service,
 * each its own consumer group), with SIGTERM/SIGINT passed on so every one drains.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ProfileStreamError, REPO_ROOT } from '@profile-stream/consumer-kit';
import { TOPIC_DEFAULTS, TOPIC_IDS } from '@profile-stream/contracts';

/** One stitcher per input topic of schemas/topics.json, each in services/<topic id> (the stitcher package's INPUTS). */
export const STITCHERS: readonly string[] = TOPIC_IDS.filter((id) => TOPIC_DEFAULTS[id].input);

export const SERVICES: Record<string, string> = {
  ...Object.fromEntries(STITCHERS.map((id) => [id, `services/${id}/src/main.ts`])),
  warehouse: 'services/warehouse/src/main.ts',
  segmenter: 'services/segmenter/src/main.ts',
  'profile-api': 'services/profile-api/src/main.ts',
};

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(`run services: ${Object.keys(SERVICES).join(', ')} (or "stitchers" for one per input topic)`)
    .argument('<service...>', 'service names')
    .action(async (names: string[]) => {
      const list = names.flatMap((n) => (n === 'stitchers' ? STITCHERS : [n]));
      const unknown = list.filter((n) => !SERVICES[n]);
      if (unknown.length)
        throw new ProfileStreamError('config_invalid', `unknown service(s) ${unknown.join(', ')}; known: ${Object.keys(SERVICES).join(', ')}`);
      if (list.length === 1) {
        await import(resolve(REPO_ROOT, SERVICES[list[0]!]!));
        return;
      }
      const children = list.map((n) => spawn(process.execPath, [...process.execArgv, resolve(REPO_ROOT, SERVICES[n]!)], { stdio: 'inherit' }));
      const forward = (sig: NodeJS.Signals) => {
        for (const c of children) c.kill(sig);
      };
      process.on('SIGTERM', forward);
      process.on('SIGINT', forward);
      const codes = await Promise.all(children.map((c) => new Promise<number>((res) => c.on('exit', (code) => res(code ?? 1)))));
      process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
    });
}
