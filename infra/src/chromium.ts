/**
 * Headless Chromium for the support page's end-to-end test and `bench api`'s page timing: Debian's `chromium` package,
 * installed by the set-up when missing (as redis-server is), driven by playwright-core through `executablePath`, so
 * nothing downloads a browser build of its own. Only what needs a browser calls this: the stack and the demo do not.
 */
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { type Browser, chromium } from 'playwright-core';
import { run, which } from './proc.ts';
import { ensureDebian } from './tools.ts';

/** The path of Debian's chromium, installed with apt-get when missing (root); `tool_missing` when that cannot be done. */
export function ensureChromium(log: (m: string) => void): string {
  ensureDebian(['chromium'], () => which('chromium') !== undefined, 'the support page test and bench api', log);
  return which('chromium')!;
}

/** "Chromium 156.0.8078.108 built on Debian …" → "Chromium 156.0.8078.108". */
export function chromiumVersion(path: string): string {
  return run(path, ['--version']).trim().split(' ').slice(0, 2).join(' ');
}

/** Launches headless Chromium (installing it first when missing). */
export async function launchChromium(log: (m: string) => void): Promise<Browser> {
  const executablePath = ensureChromium(log);
  try {
    return await chromium.launch({ executablePath, headless: true, timeout: 60_000 });
  } catch (err) {
    throw new ProfileStreamError('tool_missing', `chromium at ${executablePath} did not start headless (${(err as Error).message.split('\n')[0]})`, {
      cause: err,
    });
  }
}

export type { Browser, BrowserContext, Page } from 'playwright-core';
