/**
 * The tools the local stack needs: a missing one gives one line that says what to do.
 * Debian packages (redis-server, postgresql) are installed by the set-up when missing and we are root.
 */
import { existsSync, readdirSync } from 'node:fs';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { run, which } from './proc.ts';

export function requireTool(tool: string, why: string, install: string): string {
  const path = which(tool);
  if (!path) throw new ProfileStreamError('tool_missing', `${tool} is missing (needed for ${why}): ${install}`);
  return path;
}

let aptUpdated = false;

/** Installs Debian packages when `present()` says they are missing. */
export function ensureDebian(packages: string[], present: () => boolean, why: string, log: (m: string) => void): void {
  if (present()) return;
  if (process.getuid?.() !== 0 || !which('apt-get')) {
    throw new ProfileStreamError('tool_missing', `${packages.join(' ')} missing (needed for ${why}): run sudo apt-get install -y ${packages.join(' ')}`);
  }
  log(`installing ${packages.join(', ')} from Debian's packages (once)`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-q'], { env });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env });
  if (!present()) throw new ProfileStreamError('tool_missing', `apt-get installed ${packages.join(' ')} but it is still not usable`);
}

/** The newest PostgreSQL server binary dir that Debian installed (/usr/lib/postgresql/<v>/bin). */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/postgres`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${base}/${versions[0]}/bin` : undefined;
}
