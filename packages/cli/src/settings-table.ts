/**
 * The README's configuration tables, generated from the settings every program declares (consumer-kit's shared ones,
 * each service's config.ts, the CLI's context.ts): `npm run docs:config` writes them between the markers, and
 * settings-table.test.ts fails when the README and the declarations differ.
 */
import { PROFILE_API_SETTINGS } from '@profile-stream/api/config';
import { SHARED_SETTINGS_GROUPS, settingsTables, type SettingsGroup } from '@profile-stream/consumer-kit';
import { TOPIC_POLICY_SETTINGS } from '@profile-stream/infra';
import { SEGMENTER_SETTINGS } from '@profile-stream/segmenter';
import { STITCHER_SETTINGS } from '@profile-stream/stitcher';
import { WAREHOUSE_SETTINGS } from '@profile-stream/warehouse';
import { CLI_SETTINGS } from './context.ts';

export const SETTINGS_GROUPS: readonly SettingsGroup[] = [
  ...SHARED_SETTINGS_GROUPS,
  { title: 'Topic retention (`stack up`, `stack provision`)', source: 'infra/src/provision.ts', settings: TOPIC_POLICY_SETTINGS },
  { title: 'Stitchers', source: 'packages/stitcher/src/config.ts', settings: STITCHER_SETTINGS },
  { title: 'Segmenter', source: 'packages/segmenter/src/config.ts', settings: SEGMENTER_SETTINGS },
  { title: 'Warehouse', source: 'packages/warehouse/src/config.ts', settings: WAREHOUSE_SETTINGS },
  {
    title:
      'Profile API (also reads `SEGMENTS_DIR`, `SEGMENT_PARAMS`, `SEGMENTER_SHARDS` and, for the timeline, ' +
      "the warehouse's `WAREHOUSE_DATABASE`, `WAREHOUSE_OPS_PORT`, `WAREHOUSE_PII`, `PII_HASH_KEY`)",
    source: 'packages/api/src/config.ts',
    settings: PROFILE_API_SETTINGS,
  },
  { title: 'CLI', source: 'packages/cli/src/context.ts', settings: CLI_SETTINGS },
];

export const BEGIN = '<!-- settings:begin -->';
export const END = '<!-- settings:end -->';

/** `readme` with the text between the markers replaced by the tables; throws when a marker is missing. */
export function withSettingsTables(readme: string): string {
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md: the markers ${BEGIN} … ${END} are missing`);
  return `${readme.slice(0, from + BEGIN.length)}\n\n${settingsTables(SETTINGS_GROUPS)}\n\n${readme.slice(to)}`;
}
