/**
 * The RFM model the segmenter scores with. `RFM_BREAKPOINTS=static`: each definition's own (DEFAULT_RFM_MODEL unless
 * its YAML gives a `model:`). `population` (the default): the current version of the population's breakpoints in
 * Redis (packages/segments/src/rfm-versions.ts, computed by the warehouse or `profile-stream rfm compute`) takes the
 * place of DEFAULT_RFM_MODEL in every rfm condition written without a model; until a version exists the static model
 * holds. The version number is read at start and polled every RFM_POLL_MS (one GET); a new version swaps the
 * definitions evaluated from then on, and the existing profiles are re-scored by the normal backfill of the
 * definitions that follow it (memberships that change get reason `definition_changed`). One segmenter re-scores at a
 * time (a lease, renewed while it runs); `{rfm}:backfilled` records the version done, so a re-scoring cut short by a
 * crash is done again by whichever segmenter polls next.
 */
import { errorMessage, type Logger } from '@profile-stream/consumer-kit';
import { followsSharedModel, modelOf, type RfmVersion, type RfmVersions, type SegmentDefinition, withRfmModel } from '@profile-stream/segments';
import type { BackfillProgress } from './backfill.ts';

export type RfmBreakpoints = 'static' | 'population';

/** The definitions scored against `version`'s breakpoints (as loaded when there is none). */
export const definitionsFor = (loaded: readonly SegmentDefinition[], version: RfmVersion | null): readonly SegmentDefinition[] =>
  version === null ? loaded : withRfmModel(loaded, modelOf(version));

/** The definitions a command should evaluate now: with the current version's breakpoints in population mode. */
export async function currentDefinitions(
  loaded: readonly SegmentDefinition[],
  mode: RfmBreakpoints,
  versions: RfmVersions,
): Promise<readonly SegmentDefinition[]> {
  return mode === 'static' ? loaded : definitionsFor(loaded, await versions.current());
}

export interface RfmFollowerDeps {
  mode: RfmBreakpoints;
  loaded: readonly SegmentDefinition[];
  versions: RfmVersions;
  pollMs: number;
  /** Re-scores existing profiles for the given definitions (the evaluate role's backfill); absent: follow only. */
  rescore?: (defs: readonly SegmentDefinition[]) => Promise<BackfillProgress>;
  owner: string;
  log: Logger;
}

const LEASE_MS = 60_000;

export class RfmFollower {
  private current: readonly SegmentDefinition[];
  private adopted = 0;
  private readonly d: RfmFollowerDeps;
  private timer: NodeJS.Timeout | undefined;
  private rescoring: Promise<void> | undefined;
  private stopped = false;
  private failing = false;

  constructor(d: RfmFollowerDeps) {
    this.d = d;
    this.current = d.loaded;
  }

  /** The definitions to evaluate now. */
  get defs(): readonly SegmentDefinition[] {
    return this.current;
  }

  /** The breakpoint version in use (0: the static model). */
  get version(): number {
    return this.adopted;
  }

  /** Reads the current version (Redis down: logged, the static model holds until a poll succeeds), then polls. */
  async start(): Promise<void> {
    if (this.d.mode === 'static') return;
    await this.poll();
  }

  /** One poll: adopt a new version, and start re-scoring when the current one is not done yet. */
  async poll(): Promise<void> {
    try {
      if ((await this.d.versions.currentVersion()) !== this.adopted) {
        const v = await this.d.versions.current();
        if (v !== null && v.version !== this.adopted) {
          this.current = definitionsFor(this.d.loaded, v);
          this.d.log.info(
            { rfm_version: v.version, previous: this.adopted, customers: v.population.customers, as_of: v.as_of },
            `RFM breakpoints version ${v.version} in use`,
          );
          this.adopted = v.version;
        }
      }
      if (this.d.rescore && this.adopted > 0 && this.rescoring === undefined && (await this.d.versions.backfilled()) < this.adopted) {
        this.rescoring = this.rescore().finally(() => {
          this.rescoring = undefined;
        });
      }
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.d.log.warn({ err: errorMessage(err) }, 'RFM breakpoints not readable; polling again');
      this.failing = true;
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.poll(), this.d.pollMs);
      this.timer.unref();
    }
  }

  private async rescore(): Promise<void> {
    const { versions, owner, log } = this.d;
    if (!(await versions.lock('backfill', owner, LEASE_MS))) return; // another segmenter is on it
    const renew = setInterval(() => void versions.lock('backfill', owner, LEASE_MS).catch(() => undefined), LEASE_MS / 3);
    try {
      const version = this.adopted;
      // which follow is read from the definitions as loaded: once swapped they hold the version's model, not the default
      const following = new Set(this.d.loaded.filter(followsSharedModel).map((d) => d.id));
      const defs = this.current.filter((d) => following.has(d.id));
      if ((await versions.backfilled()) >= version) return;
      log.info({ rfm_version: version, segments: defs.map((d) => d.id) }, 're-scoring existing profiles against the new RFM breakpoints');
      const p = await this.d.rescore!(defs);
      await versions.markBackfilled(version);
      log.info({ rfm_version: version, profiles: p.evaluated, changed: p.changed }, 'existing profiles re-scored (reason definition_changed)');
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 're-scoring against the new RFM breakpoints failed; the next poll tries again');
    } finally {
      clearInterval(renew);
      await versions.unlock('backfill', owner).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.rescoring;
  }
}
