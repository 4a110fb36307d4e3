/**
 * `demo`: the whole path on the embedded defaults. Stack up (fetching what is missing), contracts registered,
 * synthetic customers generated and produced as Avro; the three stitchers, the segmenter and the warehouse run
 * (in this process) until they have caught up; then the counts, a stitched customer, segment sizes and membership
 * events, analyst queries on ClickHouse, and the dead letters with their reasons; last, the support agent's page with
 * a key to sign in, served until Ctrl-C in a terminal (`--serve` / `--no-serve` choose; elsewhere it stops at once).
 */
import type { Command } from 'commander';
import { loadStitcherConfig, startStitcher, type InputTopicId } from '@profile-stream/stitcher';
import { loadSegmenterConfig, startSegmenter } from '@profile-stream/segmenter';
import { ANALYST_QUERIES, analystSql, loadWarehouseConfig, startWarehouse, WAREHOUSE_TOPICS } from '@profile-stream/warehouse';
import { committedToEnd } from '@profile-stream/consumer-kit';
import { createStack, loadTopicPolicy, provision, stackUp, waitFor } from '@profile-stream/infra';
import { openClients } from '../clients.ts';
import { cliContext } from '../context.ts';
import { readTopic } from '../read-topic.ts';
import { printTable } from '../table.ts';
import { runGenerate } from './generate.ts';
import { busiestAccount, renderAccount } from './account.ts';
import { lookupProfile } from './profile.ts';
import { STITCHERS } from './run.ts';
import { renderProfile } from '../render-profile.ts';
import { openSupportPage, untilSignal } from './demo-support.ts';

const say = (s: string) => process.stdout.write(`${s}\n`);

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('stack up, synthetic customers in; stitched profiles, segments, ClickHouse results and dead letters out: the tour on the embedded defaults')
    .option('-c, --customers <n>', 'synthetic customers', (v) => Number(v), 2000)
    .option('-d, --days <n>', 'days of activity', (v) => Number(v), 30)
    .option('-s, --seed <n>', 'random seed', (v) => Number(v), 7)
    .option('--serve', 'serve the support page until Ctrl-C at the end (the default in a terminal)')
    .option('--no-serve', 'stop at the end (the default when not in a terminal: CI, pipes)')
    .action(async (o: { customers: number; days: number; seed: number; serve?: boolean }) => {
      // In a terminal the tour ends on the live page; a script or CI gets a command that finishes.
      const serve = o.serve ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
      const ctx = cliContext('demo', { LOG_LEVEL: 'error' }); // the tour prints its own lines; logs stay for LOG_LEVEL=info
      say('== 1. local stack (Kafka, schema registry, Redis, ClickHouse)');
      const stack = createStack(ctx.conn, ctx.log);
      const up = await stackUp(stack);
      const p = await provision(ctx.conn, ctx.topics, ctx.log, loadTopicPolicy(ctx.env));
      for (const [name, state] of Object.entries(up.states)) say(`   ${name.padEnd(18)} ${state}`);
      say(`   schemas: ${p.subjects.map((s) => `${s.subject}#${s.id}`).join(', ')}`);
      say(`   ready in ${up.seconds.toFixed(1)} s; \`profile-stream stack status\` shows pids, ports and logs`);

      say(`\n== 2. ${o.customers} synthetic customers over ${o.days} days → Kafka (Avro)`);
      const gen = await runGenerate({ customers: o.customers, days: o.days, seed: o.seed, produce: true, loyaltyShare: 0.3 });
      say(
        `   produced ${gen.records} records in ${gen.seconds.toFixed(1)} s (${Math.round(gen.records / gen.seconds)}/s): ${Object.entries(gen.byTopic)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}`,
      );
      say(`   of which ${gen.malformed} malformed on purpose (what broken upstream apps send)`);

      say(`\n== 3. the ${STITCHERS.length} stitchers (${STITCHERS.join(', ')}) fold events into profiles in Redis`);
      const clients = openClients(ctx);
      const inputs = Object.values(clients.topics).filter((t) => t.input);
      const t3 = performance.now();
      const stitcherCfgs = STITCHERS.map((id) => loadStitcherConfig(id as InputTopicId, { ...ctx.env, LOG_LEVEL: 'error', STITCHER_OPS_PORT: '0' }));
      const stitchers = await Promise.all(stitcherCfgs.map((cfg) => startStitcher(cfg)));
      // The segmenter runs alongside: it follows profile-changes as the stitchers publish them.
      const segCfg = loadSegmenterConfig({ ...ctx.env, LOG_LEVEL: 'error', SEGMENTER_OPS_PORT: '0' });
      const segmenter = await startSegmenter(segCfg);
      // And the warehouse, into ClickHouse (embedded chDB under .data/, or CLICKHOUSE_URL).
      const whCfg = loadWarehouseConfig({ ...ctx.env, LOG_LEVEL: 'error', WAREHOUSE_OPS_PORT: '0' });
      const warehouse = await startWarehouse(whCfg);
      await waitFor(
        'the stitchers to reach the end of every input topic',
        async () => {
          for (const [i, t] of inputs.entries()) if (!(await committedToEnd(clients.kafka, stitcherCfgs[i]!.groupId, [t.topic]))) return false;
          return true;
        },
        600_000,
      );
      const stats = await Promise.all(stitchers.map(async (st) => st.metrics()));
      await Promise.all(stitchers.map((st) => st.stop()));
      const sum = (name: string, label?: [string, string]) =>
        stats.reduce((acc, m) => acc + m.filter((x) => x.name === name && (!label || x.labels[label[0]] === label[1])).reduce((a, x) => a + x.value, 0), 0);
      say(
        `   caught up in ${((performance.now() - t3) / 1000).toFixed(1)} s: ${sum('ps_events_folded_total', ['result', 'applied'])} events folded, ${sum('ps_events_folded_total', ['result', 'duplicate'])} duplicates ignored`,
      );
      if (sum('ps_events_folded_total', ['result', 'applied']) === 0 && sum('ps_events_folded_total', ['result', 'duplicate']) > 0) {
        say('   (an earlier demo produced these same seeded events: the fold ignored them all as duplicates, by event_id)');
      }
      say(
        `   ${sum('ps_profiles_created_total')} profiles created, ${sum('ps_profile_merges_total', ['outcome', 'merged'])} merges (anonymous visitors who logged in, e-mail/phone variants), ${sum('ps_profile_merges_total', ['outcome', 'refused'])} refused`,
      );
      say(`   ${sum('ps_identifiers_dropped_total')} junk or invalid identifier values dropped (counted, never matched)`);

      say('\n== 4. a stitched customer: anonymous browsing, then logged in, bought, and opened a support ticket');
      let shown = 0;
      let sampleEmail: string | undefined;
      for (const c of gen.truth.per_customer) {
        if (shown >= 1) break;
        const email = c.identity.emails[0];
        if (
          !email ||
          c.identity.user_ids.length === 0 ||
          c.identity.anonymous_ids.length === 0 ||
          c.support.tickets_count === 0 ||
          c.transactions.orders_count === 0 ||
          c.fragments !== 1
        )
          continue;
        const view = (await lookupProfile(`email:${email}`, { redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, region: ctx.defaultRegion })) as
          | { identity?: { anonymous_ids?: unknown[] } }
          | undefined;
        if (!view || (view.identity?.anonymous_ids?.length ?? 0) === 0) continue;
        say(`   \`profile-stream profile email:${email}\``);
        process.stdout.write(
          `${renderProfile(view)
            .split('\n')
            .slice(0, 45)
            .map((l) => `   ${l}`)
            .join('\n')}\n`,
        );
        shown++;
        sampleEmail = email;
      }
      await showLoyaltyMember(gen.loyaltyMembers, { redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, region: ctx.defaultRegion });
      const company = await busiestAccount({ redisUrl: ctx.conn.redis.url, prefix: ctx.redisPrefix, now: Date.now() });
      if (company) {
        say(`\n== 4c. a company: its contacts' profiles add up to one account (\`profile-stream account ${String(company.account_id)}\`)`);
        process.stdout.write(`${renderAccount(company).replace(/^/gm, '   ').trimEnd()}\n`);
      }
      say(
        `\n== 5. segments: ${segmenter.defs.length} definitions (segments/*.yaml) evaluated on every profile change, clock-driven exits at the exact instant`,
      );
      const t5 = performance.now();
      const changesTopic = clients.topics['profile-changes'].topic;
      await waitFor(
        'the segmenter to reach the end of profile-changes and relay its outbox',
        async () => {
          if (!(await committedToEnd(clients.kafka, segCfg.groupId, [changesTopic]))) return false;
          const b = await segmenter.memberships.backlog();
          return b.outbox === 0 && (b.nextDue === null || b.nextDue > Date.now());
        },
        600_000,
      );
      const sizes = [];
      for (const d of segmenter.defs) sizes.push({ segment: d.id, members: (await segmenter.memberships.size(d.id)).members, name: d.name });
      const backlog = await segmenter.memberships.backlog();
      await segmenter.stop();
      say(`   caught up in ${((performance.now() - t5) / 1000).toFixed(1)} s (\`profile-stream segments list\`):`);
      printTable(sizes);
      say(
        `   ${backlog.scheduled} profiles have a re-evaluation scheduled (next ${backlog.nextDue === null ? 'none' : new Date(backlog.nextDue).toISOString()}), e.g. the moment they turn dormant`,
      );
      const samples = new Map<string, Record<string, unknown>>();
      await readTopic(clients.kafka, clients.topics['segment-membership-changed'].topic, {}, async (r) => {
        const e = (await clients.registry.decode<Record<string, unknown>>(r.value!)).value;
        const key = `${e.segment_id as string}/${e.reason as string}`;
        if (!samples.has(key) && ['dormant/time_elapsed', 'first-time-buyer/rule_matched', 'first-time-buyer/profile_merged'].includes(key))
          samples.set(key, e);
      });
      say('   segment-membership-changed (what campaign engines subscribe to; try `node examples/campaign-trigger/src/main.ts --from-beginning`):');
      for (const e of samples.values()) {
        say(
          `     ${e.change as string} ${e.segment_id as string} (${e.reason as string}) at ${new Date(e.occurred_at as number).toISOString()}  profile ${e.profile_id as string}  event_id ${e.event_id as string}`,
        );
      }

      say('\n== 6. the warehouse: every event, membership change and profile snapshot in ClickHouse (embedded chDB)');
      const whTopics = WAREHOUSE_TOPICS.map((id) => clients.topics[id].topic);
      await waitFor(`the warehouse to reach the end of its ${whTopics.length} topics`, () => committedToEnd(clients.kafka, whCfg.groupId, whTopics), 600_000);
      for (const id of ['revenue_by_channel_category_day', 'active_customers_by_device', 'segment_growth', 'points_liability_by_tier']) {
        const q = ANALYST_QUERIES.find((x) => x.id === id)!;
        const rs = await warehouse.client.query({ query: analystSql(q), format: 'JSONEachRow' });
        const rows = (await rs.json<Record<string, unknown>>()).slice(0, 6);
        say(`   ${q.title} (first rows):`);
        printTable(rows);
      }
      say(`   the analyst queries are in the README; try \`profile-stream sql "SELECT count() FROM clickstream_events"\``);

      say('\n== 7. dead letters by reason (`profile-stream dlq list clickstream`)');
      const rows: Record<string, unknown>[] = [];
      for (const t of inputs) {
        const reasons = new Map<string, number>();
        await readTopic(clients.kafka, t.dlq!, {}, (r) => {
          const reason = r.headers['ps-dlq-reason']?.toString() ?? '?';
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        });
        for (const [reason, n] of reasons) rows.push({ dlq: t.dlq, reason, records: n });
      }
      printTable(rows);
      await clients.close();

      say("\n== 8. the support agent's page: one customer on one screen, found by e-mail, phone, user id or profile id");
      const page = await openSupportPage(ctx, warehouse.opsPort);
      say(`Support page: ${page.url} (API key: ${page.key})`);
      const hint = sampleEmail ?? gen.truth.per_customer.find((c) => c.identity.emails.length > 0)?.identity.emails[0];
      say(`   the key is shown this once (\`profile-stream apikey list\`)${hint ? `; try ${hint}` : ''}`);
      say(
        '\nNext: `profile-stream profile email:<address>`, `profile-stream consume profile-changes -n 3`, `profile-stream dlq list purchases`, `profile-stream stack status`.',
      );
      if (serve && page.started) {
        say('Serving the support page until Ctrl-C.');
        await untilSignal();
      } else if (!page.started) say('   (served by the profile API that was already running)');
      await page.stop();
      await warehouse.stop();
    });
}

/** Step 4b: a loyalty member's section of the profile (balance, tier and since when, points expiring next). */
async function showLoyaltyMember(refs: readonly string[], o: { redisUrl: string; prefix: string; region: string }): Promise<void> {
  for (const ref of refs) {
    const view = (await lookupProfile(ref, o)) as { loyalty?: Record<string, unknown> } | undefined;
    const l = view?.loyalty;
    if (!l || l.member_id === null) continue;
    say(`\n== 4b. a loyalty member: points on their orders, a tier change, redemptions (\`profile-stream profile ${ref} --json\`, section loyalty)`);
    say(`   member ${String(l.member_id)}: ${String(l.tier)} since ${String(l.tier_since)} (${String(l.status)} ${String(l.enrolled_at)})`);
    say(
      `   balance ${String(l.points_balance)} points (lifetime ${String(l.lifetime_points)}, redeemed ${String(l.points_redeemed)}); last earn ${String(l.last_earned_at)}`,
    );
    say(`   next expiry: ${String(l.next_expiry_points)} points on ${String(l.next_expiry_at)} (points-expiring: 30 days before it)`);
    return;
  }
}
