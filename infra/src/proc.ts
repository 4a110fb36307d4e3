/**
 * Child processes of the stack: started detached with a log file and a pid file, stopped only by that
 * pid file (checked against the process start time, so a recycled pid is never signalled).
 */
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { ProfileStreamError } from '@profile-stream/consumer-kit';

export interface PidRecord {
  pid: number;
  startTicks: string;
  command: string;
}

function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined; // no such process
  }
}

export function readPid(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined; // a torn pid file counts as none
  }
}

/** The pid from the file, if that very process is still alive. */
export function livePid(pidFile: string): number | undefined {
  const rec = readPid(pidFile);
  if (!rec) return undefined;
  return startTicks(rec.pid) === rec.startTicks ? rec.pid : undefined;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as another user (root cannot run PostgreSQL). */
  runAs?: string;
}

export function spawnDetached(o: SpawnOptions): number {
  mkdirSync(dirname(o.logFile), { recursive: true });
  mkdirSync(dirname(o.pidFile), { recursive: true });
  const fd = openSync(o.logFile, 'a');
  const [cmd, args] = o.runAs ? ['runuser', ['-u', o.runAs, '--', o.command, ...o.args]] : [o.command, o.args];
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...o.env },
    cwd: o.cwd,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new ProfileStreamError('stack_not_ready', `could not start ${o.command}`);
  child.unref();
  const rec: PidRecord = { pid: child.pid, startTicks: startTicks(child.pid) ?? '', command: `${cmd} ${args.join(' ')}` };
  writeFileSync(o.pidFile, JSON.stringify(rec));
  return child.pid;
}

/** SIGTERM, wait, then SIGKILL; only the process named by the pid file. Returns whether it was running. */
export async function stopPid(pidFile: string, graceMs = 20_000): Promise<boolean> {
  const pid = livePid(pidFile);
  if (pid === undefined) {
    rmSync(pidFile, { force: true });
    return false;
  }
  const rec = readPid(pidFile)!;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && startTicks(pid) === rec.startTicks) await sleep(100);
  if (startTicks(pid) === rec.startTicks) process.kill(pid, 'SIGKILL');
  while (startTicks(pid) === rec.startTicks && !isZombie(pid)) await sleep(50);
  rmSync(pidFile, { force: true });
  return true;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

export async function assertPortFree(port: number, part: string, variable: string): Promise<void> {
  if (await portOpen(port)) {
    throw new ProfileStreamError(
      'port_in_use',
      `port ${port} (${part}) is in use by a process this stack did not start: stop it, or set ${variable} to a free port`,
    );
  }
}

/** Polls `check` until it resolves truthy or the deadline passes; the last error goes into the message. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, logFile?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new ProfileStreamError('stack_not_ready', `${what} not ready after ${timeoutMs / 1000}s${why}${logFile ? ` (see ${logFile})` : ''}`);
}

export function which(tool: string): string | undefined {
  try {
    return execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion; a failure throws with the command and the tail of its stderr. */
export function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
      ...opts,
      env: { ...process.env, ...opts.env },
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; status?: number };
    const tail = `${e.stderr ?? ''}${e.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${command} ${args.slice(0, 3).join(' ')} exited ${e.status ?? '?'}: ${tail}`, { cause: err });
  }
}
