/** `profile <ref>`: the whole profile of a customer, following merge aliases (JSON or a readable view). */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { ProfileStreamError } from '@profile-stream/consumer-kit';
import { normaliseIdentifiers, profileView, ProfileStore } from '@profile-stream/profile';

export type ProfileView = ReturnType<typeof profileView>;
import { cliContext } from '../context.ts';
import { renderProfile } from '../render-profile.ts';

const TYPES: Record<string, 'email' | 'phone' | 'user_id' | 'anonymous_id'> = { email: 'email', phone: 'phone', user: 'user_id', anon: 'anonymous_id' };

export async function lookupProfile(ref: string, o: { redisUrl: string; prefix: string; region: string }): Promise<ProfileView | undefined> {
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const store = new ProfileStore({ redis, prefix: o.prefix, windowMs: 1 });
    const m = /^(email|phone|user|anon):(.+)$/.exec(ref);
    let pid: string | undefined = ref;
    if (m) {
      const type = TYPES[m[1]!]!;
      const ids = normaliseIdentifiers({ user_id: null, email: null, phone: null, anonymous_id: null, [type]: m[2]! } as never, {
        defaultRegion: o.region,
        blocklist: new Set<string>(),
      });
      const value = ids[type];
      if (!value) throw new ProfileStreamError('invalid_event', `${ref}: not a usable ${type} (${ids.dropped[0]?.reason ?? 'invalid'})`);
      pid = await store.owner(type, value);
    }
    if (!pid) return undefined;
    const p = await store.read(pid, { complete: true });
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
      const view = await lookupProfile(ref, { redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, region: ctx.defaultRegion });
      if (!view) {
        process.stderr.write(`no profile for ${ref}\n`);
        process.exitCode = 4;
        return;
      }
      process.stdout.write(opts.json ? `${JSON.stringify(view, null, 2)}\n` : renderProfile(view as object));
    });
}
