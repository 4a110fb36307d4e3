/**
 * Real headless Chromium for end-to-end tests of the support page: Debian's chromium (installed by the set-up when
 * missing, infra/src/chromium.ts) driven by playwright-core, and screenshots kept as test artifacts under
 * `.data/artifacts/<name>/` (git-ignored; the paths are printed so a run's log says where they are).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { type Browser, launchChromium, type Page } from '@profile-stream/infra';

export async function openBrowser(): Promise<Browser> {
  return launchChromium((m) => process.stdout.write(`${m}\n`));
}

export interface Artifacts {
  dir: string;
  /** Full-page screenshot `<dir>/<name>.png`; returns its path relative to the repository. */
  screenshot(page: Page, name: string): Promise<string>;
  saved: string[];
}

/** A fresh `.data/artifacts/<name>` (the last run's screenshots replaced). */
export function artifacts(name: string): Artifacts {
  const dir = join(REPO_ROOT, '.data', 'artifacts', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const saved: string[] = [];
  return {
    dir,
    saved,
    async screenshot(page, shot) {
      const path = join(dir, `${shot}.png`);
      await page.screenshot({ path, fullPage: true });
      const rel = relative(REPO_ROOT, path);
      saved.push(rel);
      process.stdout.write(`screenshot: ${rel}\n`);
      return rel;
    },
  };
}
