/**
 * `erase <ref>`: erases a customer (the profile the ref leads to and every profile merged into it) with the same code as
 * the profile API's `DELETE /v1/profiles/:ref` (eraseRef): Redis first, then the profile-erased and profile-changes
 * records. Requested by `cli:<user>`. Erasing again prints the original audit id (`already`).
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { eraseRef, erasureRecords, newRequestId, type EraseAnswer } from '@profile-stream/api';
import { codeOf } from '@profile-stream/consumer-kit';
import { ProfileStore } from '@profile-stream/profile';
import { loadWarehouseConfig } from '@profile-stream/warehouse/config';
import { identifierHash } from '@profile-stream/warehouse/pii';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { runVerify } from '../erase/verify.ts';

function render(a: EraseAnswer): string {
  const head = a.erased === 'now' ? `erased ${a.profile_id}` : `${a.profile_id} was erased before (${a.at}, by ${a.requested_by})`;
  const merged = a.merged_ids.length ? ` and ${a.merged_ids.length} merged profile(s): ${a.merged_ids.join(', ')}` : '';
  const c = a.counts;
  return `${head}${merged}\naudit id ${a.audit_id}: ${c.identifiers} identifiers, ${c.keys} Redis keys, ${a.identifier_hashes} identifier hashes kept as tombstones\n`;
}

export function registerErase(program: Command): void {
  program
    .command('erase')
    .description('erase a customer everywhere: <profile id | email:… | phone:… | user:… | anon:…> (idempotent)')
    .argument('<ref>', 'profile id or typed identifier')
    .option('--reason <reason>', 'why (kept in the audit record), e.g. gdpr_request')
    .option('--json', 'the audit answer as JSON (as the API answers)')
    .option('--verify', 'erase nothing: search Redis, ClickHouse and the topics for the customer and report each place (exit 5 if PII remains)')
    .option('--inputs', 'with --verify: read the input topics too (raw events stay there until their retention)')
    .action(async (ref: string, opts: { reason?: string; json?: boolean; verify?: boolean; inputs?: boolean }) => {
      const ctx = cliContext('erase');
      if (opts.verify) return runVerify(ctx, ref, opts);
      const piiKey = loadWarehouseConfig(ctx.env).piiKey;
      const clients = openClients(ctx);
      const redis = new Redis(ctx.conn.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
      try {
        await redis.connect();
        const store = new ProfileStore({ redis, prefix: ctx.redisPrefix, windowMs: 1 });
        const answer = await eraseRef(
          {
            store,
            normalise: { defaultRegion: ctx.defaultRegion, blocklist: new Set(ctx.junkIds) },
            hash: (type, value) => identifierHash(piiKey, type, value),
            async publish(r) {
              const producer = await clients.producer();
              await producer.sendBatch({ acks: -1, topicMessages: await erasureRecords(clients.registry, clients.topics, r, Date.now()) });
            },
          },
          ref,
          { requestedBy: `cli:${userInfo().username}`, requestId: newRequestId(), reason: opts.reason ?? null },
        ).catch((err: unknown) => {
          if (codeOf(err) === 'not_found') return undefined;
          throw err;
        });
        if (!answer) {
          process.stderr.write(`no profile for ${ref}\n`);
          process.exitCode = 4;
          return;
        }
        process.stdout.write(opts.json ? `${JSON.stringify(answer)}\n` : render(answer));
      } finally {
        await clients.close();
        redis.disconnect();
      }
    });
}
