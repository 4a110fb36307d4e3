#!/usr/bin/env node
/**
 * A campaign trigger, as a team integrating with profile-stream would write one: only kafkajs and the Confluent
 * schema-registry client, no profile-stream code. It consumes `segment-membership-changed` and turns entries into
 * campaign actions ("send win-back to …"). What it shows:
 *   - de-duplicate by `event_id` (delivery is at-least-once; a duplicate always carries the same id) — here in
 *     memory; a real engine keeps the ids it acted on in its own database, in the same transaction as the send;
 *   - act on `occurred_at` (the exact moment, e.g. last purchase + 180 d), not on when the event arrived, and skip
 *     what is too old to act on (replays of history);
 *   - exits cancel what an entry started (a cart reminder is cancelled when the customer buys);
 *   - commit offsets only after acting.
 *
 *   node examples/campaign-trigger/src/main.ts [--from-beginning] [--max-age-days N] [--until-idle MS]
 * Env: KAFKA_BROKERS (localhost:9092), SCHEMA_REGISTRY_URL (http://localhost:8081),
 *      TOPIC_SEGMENT_MEMBERSHIP_CHANGED (segment-membership-changed), CAMPAIGN_GROUP_ID (campaign-trigger).
 */
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';

interface MembershipChanged {
  event_id: string;
  profile_id: string;
  segment_id: string;
  change: 'entered' | 'exited';
  reason: string;
  occurred_at: number;
  traits: Record<string, string>;
}

/** What to do when a profile enters (or leaves) a segment. */
const ON_ENTER: Record<string, string> = {
  'first-time-buyer': 'start welcome series for',
  'cart-abandoner': 'send cart reminder to',
  dormant: 'send win-back to',
  'at-risk': 'send retention offer to',
  'rfm-champions': 'invite to VIP programme',
  'unhappy-customer': 'ask a service lead to call',
};
const ON_EXIT: Record<string, string> = {
  'cart-abandoner': 'cancel cart reminder for',
  'email-reachable': 'stop all e-mail to',
};

const { values: args } = parseArgs({
  options: {
    'from-beginning': { type: 'boolean', default: false },
    'max-age-days': { type: 'string', default: '30' },
    'until-idle': { type: 'string' },
  },
});
const maxAgeMs = Number(args['max-age-days']) * 86_400_000;
const topic = process.env.TOPIC_SEGMENT_MEMBERSHIP_CHANGED ?? 'segment-membership-changed';
const kafka = new Kafka({ clientId: 'campaign-trigger', brokers: (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(','), logLevel: logLevel.NOTHING });
const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL ?? 'http://localhost:8081' });
const consumer = kafka.consumer({ groupId: process.env.CAMPAIGN_GROUP_ID ?? 'campaign-trigger' });
const actedOn = new Set<string>();

function act(e: MembershipChanged): string | undefined {
  const verb = e.change === 'entered' ? ON_ENTER[e.segment_id] : ON_EXIT[e.segment_id];
  if (verb === undefined) return undefined;
  if (Date.now() - e.occurred_at > maxAgeMs) return `skip (too old: ${new Date(e.occurred_at).toISOString()}) ${verb} ${e.profile_id}`;
  const traits = Object.entries(e.traits)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${verb} ${e.profile_id} (${e.segment_id} ${e.change} at ${new Date(e.occurred_at).toISOString()}, ${e.reason}${traits ? `; ${traits}` : ''}) [${e.event_id}]`;
}

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: args['from-beginning'] });
let idle: NodeJS.Timeout | undefined;
const stop = async () => {
  await consumer.disconnect();
  process.exit(0);
};
const armIdle = () => {
  if (args['until-idle'] === undefined) return;
  clearTimeout(idle);
  idle = setTimeout(() => void stop(), Number(args['until-idle']));
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
consumer.on(consumer.events.GROUP_JOIN, armIdle);
await consumer.run({
  eachMessage: async ({ message }) => {
    armIdle();
    if (!message.value) return;
    const e = (await registry.decode(message.value)) as MembershipChanged;
    if (actedOn.has(e.event_id)) return; // a redelivery: already acted on
    const line = act(e);
    if (line !== undefined) process.stdout.write(`${line}\n`);
    actedOn.add(e.event_id);
  },
});
