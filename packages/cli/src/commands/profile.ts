/** `profile <ref>`: the whole profile of a customer, following merge aliases (JSON or a readable view). */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { profileView, ProfileStore, resolveRef } from '@profile-stream/profile';
import { cliContext } from '../context.ts';
import { renderProfile } from '../render-profile.ts';

export type ProfileView = ReturnType<typeof profileView>;

/** The profile a ref names (resolveRef: the same resolution as the profile API), as the DESIGN §5 JSON. */
export async function lookupProfile(
  ref: string,
  o: { redisUrl: string; prefix: string; region: string; junkIds?: readonly string[] },
): Promise<ProfileView | undefined> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const store = new ProfileStore({ redis, prefix: o.prefix, windowMs: 1 });
    const { profile: p } = await resolveRef(store, ref, { defaultRegion: o.region, blocklist: new Set(o.junkIds ?? []) });
    return p ? profileView(p.doc as never, { profile_id: p.profileId, merged_ids: p.mergedIds }) : undefined;
  } finally {
    redis.disconnect();
  }
}

export function registerProfile(program: Command): void {
  program
    .command('profile')
    .description('show a customer profile: <profile id | email:… | phone:… | user:… | anon:…>')
    .argument('<ref>', 'profile id or typed identifier')
    .option('--json', 'the profile JSON (stable field names)')
    .action(async (ref: string, opts: { json?: boolean }) => {
      const ctx = cliContext('profile');
      const view = await lookupProfile(ref, { redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, region: ctx.defaultRegion, junkIds: ctx.junkIds });
      if (!view) {
        process.stderr.write(`no profile for ${ref}\n`);
        process.exitCode = 4;
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(view, null, 2)}\n` : renderProfile(view as object));
    });
}
