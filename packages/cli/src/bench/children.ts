/**
 * The benchmarks' child processes, each leading a process group of its own (the service or bench child and anything
 * it starts): stopped with SIGTERM to the group (SIGKILL after a grace period) when a run ends; when the bench is
 * interrupted with SIGINT or SIGTERM every group still running is stopped the same way before the bench exits
 * (130 / 143); killed if the bench exits any other way.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { REPO_ROOT } from '@profile-stream/consumer-kit';

/** What a child is, for the interrupt message: a pipeline service, or one of the bench's own load / observer processes. */
export type ChildKind = 'service' | 'child';

const running = new Map<ChildProcess, ChildKind>();
let label = 'bench';

/** Signals a child's whole process group. */
export function signalGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    // the group is already gone
  }
}

const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** SIGTERM to each of `children`' groups (every running child by default); waits for them, SIGKILL after `graceMs`. */
export async function stopGroups(children: readonly ChildProcess[] = [...running.keys()], graceMs = 10_000): Promise<void> {
  const live = children.filter((c) => !exited(c));
  const gone = live.map((c) => once(c, 'exit'));
  for (const c of live) signalGroup(c, 'SIGTERM');
  const kill = setTimeout(() => {
    for (const c of live) signalGroup(c, 'SIGKILL');
  }, graceMs);
  await Promise.all(gone);
  clearTimeout(kill);
}

function describeRunning(): string {
  const count = (k: ChildKind) => [...running.values()].filter((x) => x === k).length;
  const parts = [
    [count('service'), 'service process(es)'],
    [count('child'), 'child process(es)'],
  ] as const;
  const named = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  return named.length ? named.join(' and ') : '0 child process(es)';
}

let interrupted = false;
function onInterrupt(sig: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`${label}: ${sig}: stopping ${describeRunning()} (profile-stream stack clean removes the topics and keys it left)\n`);
  void stopGroups().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
}

let hooked = false;
/**
 * Tracks `child` (spawned with `detached: true`, so it leads its own group) until it exits; the first call installs the
 * SIGINT / SIGTERM / exit hooks, and `name` (the command, e.g. `bench clients`) heads the interrupt message.
 */
export function track(child: ChildProcess, kind: ChildKind, name?: string): ChildProcess {
  if (name !== undefined) label = name;
  if (!hooked) {
    hooked = true;
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    process.on('exit', () => {
      for (const c of running.keys()) signalGroup(c, 'SIGKILL');
    });
  }
  if (exited(child)) return child;
  running.set(child, kind);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Settles with `p`, or fails after `ms` naming `what`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A report from a bench child: `failed` (with its error) ends it. */
export interface Report {
  type: string;
}

export interface BenchChild<R extends Report> {
  pid: number;
  /** Its first report of `type` (failing if the child fails or exits before it, or after `ms`). */
  report<T extends R['type']>(type: T, ms: number): Promise<Extract<R, { type: T }>>;
  /** Its latest report of `type`, if any yet (for progress reports it sends again and again). */
  latest<T extends R['type']>(type: T): Extract<R, { type: T }> | undefined;
  send(message: unknown): void;
}

/**
 * Forks the TypeScript module `path` as a child leading its own process group (tracked: stopped with the others), sends
 * it `job` over IPC (advanced serialisation: Buffers and Maps pass) and collects its reports. `label` is the command,
 * for the interrupt message; `name` names the child in errors.
 */
export function forkChild<R extends Report>(o: { path: string; name: string; label: string; job: unknown }): BenchChild<R> {
  const child = fork(o.path, [], {
    cwd: REPO_ROOT,
    detached: true,
    serialization: 'advanced',
    execArgv: ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  track(child, 'child', o.label);
  const first = new Map<string, R>();
  const last = new Map<string, R>();
  const waiting = new Set<{ type: string; resolve: (r: R) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    for (const w of waiting) w.reject(failure);
    waiting.clear();
  };
  child.on('message', (r: R & { error?: string }) => {
    if (r.type === 'failed') return fail(new Error(`${o.name}: ${r.error}`));
    if (!first.has(r.type)) first.set(r.type, r);
    last.set(r.type, r);
    for (const w of waiting) if (w.type === r.type) w.resolve(r);
  });
  // Stopped by an interrupt, its reports never come: the bench exits 130 / 143 once every group is down, rather than
  // failing on the way (exit 1) as it would for a child that died on its own.
  child.once('close', (code, sig) => {
    if (!interrupted) fail(new Error(`${o.name} exited (${sig ?? code})`));
  });
  child.send(o.job as object);
  return {
    pid: child.pid!,
    report: <T extends R['type']>(type: T, ms: number) =>
      within(
        new Promise<Extract<R, { type: T }>>((resolve, reject) => {
          const known = first.get(type);
          if (known) resolve(known as Extract<R, { type: T }>);
          else if (failure) reject(failure);
          else waiting.add({ type, resolve: resolve as (r: R) => void, reject });
        }),
        ms,
        `${o.label}: ${o.name}: ${type}`,
      ),
    latest: <T extends R['type']>(type: T) => last.get(type) as Extract<R, { type: T }> | undefined,
    send: (m) => {
      if (child.connected) child.send(m as object);
    },
  };
}
