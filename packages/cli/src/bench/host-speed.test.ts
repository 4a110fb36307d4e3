import { describe, expect, it } from 'vitest';
import { hostSpeedLine, hostSpeedMs } from './host-speed.ts';

describe('host speed (host-speed.ts)', () => {
  it('is measured once per process: the workload time, a positive number of ms, the same on every call', () => {
    const first = hostSpeedMs();
    expect(Number.isFinite(first) && first > 0).toBe(true);
    expect(hostSpeedMs()).toBe(first);
  });

  it('prints the time measured, to a tenth of a ms', () => {
    expect(hostSpeedLine()).toContain(`took ${hostSpeedMs().toFixed(1)} ms at the bench's start`);
  });
});
