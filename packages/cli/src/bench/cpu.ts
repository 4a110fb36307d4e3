/**
 * CPU per component over a measured phase: user + system time from /proc/<pid>/stat (a process with its
 * descendants, reaped ones included: the registry's PostgreSQL runs under runuser and forks a backend per
 * connection) and process.cpuUsage() for the bench process itself, as a share of one core of the phase's wall time;
 * and how long each was ready to run but waited for a core (/proc/<pid>/task/<tid>/schedstat).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { livePid } from '@profile-stream/infra';

/** A process to meter: `pid` undefined means this process (without its children, metered on their own). */
export interface Metered {
  name: string;
  pid: number | undefined;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // Linux's USER_HZ almost everywhere
    }
  }
  return ticksPerSecond;
}

/** Fields after the command name of /proc/<pid>/stat (state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14]). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

/** ns a process's threads spent runnable but waiting for a core (/proc/<pid>/task/<tid>/schedstat, second field). */
function runQueueNs(pid: number | 'self'): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process is gone
  }
  return ns;
}

interface Times {
  /** CPU used, ms (user + system). */
  cpu: number;
  /** Time runnable but not running, ms, summed over threads (live ones only). */
  waited: number;
}

/** A process and its descendants: CPU (live and reaped) and run-queue wait (live). */
function treeTimes(root: number): Times {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(Number(entry));
    if (!f) continue;
    const pid = Number(entry);
    const ppid = Number(f[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    ticks.set(pid, Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
  }
  let cpu = 0;
  let waited = 0;
  const stack = [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    cpu += ticks.get(pid) ?? 0;
    waited += runQueueNs(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return { cpu: (cpu * 1000) / clockTicks(), waited: waited / 1e6 };
}

const timesOf = (m: Metered): Times => {
  if (m.pid !== undefined) return treeTimes(m.pid);
  const u = process.cpuUsage();
  return { cpu: (u.user + u.system) / 1000, waited: runQueueNs('self') / 1e6 };
};

/** The local stack's processes, from their pid files (parts not running here, or external, are left out). */
export function stackProcesses(dataDir: string): Metered[] {
  const parts: [string, string][] = [
    ['kafka', 'kafka'],
    ['redis', 'redis'],
    ['schema registry', 'schema-registry'],
    ["registry's PostgreSQL", 'registry-postgres'],
  ];
  return parts.flatMap(([name, file]) => {
    const pid = livePid(join(dataDir, 'run', `${file}.pid`));
    return pid === undefined ? [] : [{ name, pid }];
  });
}

/** The machine's CPU time in ms from /proc/stat: busy (everything but idle, iowait and steal), and stolen by a hypervisor. */
function machineMs(): { busy: number; steal: number } {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = f.map(Number) as number[];
  const toMs = (t: number) => (t * 1000) / clockTicks();
  return { busy: toMs(user! + nice! + system! + irq! + softirq!), steal: toMs(steal ?? 0) };
}

/**
 * Starts metering; `read()` gives each process's CPU since, as % of one core, and the time its threads were ready
 * to run but waited for a core (the run queue, from schedstat; % of the wall time, summed over threads), then the
 * whole machine's CPU (every process, ours or not) and the time a hypervisor took from it (steal).
 */
export function meterCpu(procs: readonly Metered[]): { read(): Record<string, string | number>[] } {
  const t0 = performance.now();
  const start = procs.map(timesOf);
  const machine0 = machineMs();
  return {
    read() {
      const wall = performance.now() - t0;
      const pct = (ms: number) => ((100 * ms) / wall).toFixed(0);
      const row = (process: string, used: number, waited?: number) => ({
        process,
        'cpu s': (used / 1000).toFixed(1),
        '% of a core': pct(used),
        'waited for a core, %': waited === undefined ? '' : pct(waited),
      });
      const machine = machineMs();
      return [
        ...procs.map((p, i) => {
          const now = timesOf(p);
          return row(p.pid === undefined ? `${p.name} (this process)` : `${p.name} (pid ${p.pid})`, now.cpu - start[i]!.cpu, now.waited - start[i]!.waited);
        }),
        row('the whole machine, every process (/proc/stat)', machine.busy - machine0.busy),
        row('stolen by the hypervisor (steal)', machine.steal - machine0.steal),
      ];
    },
  };
}
