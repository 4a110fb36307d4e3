#!/usr/bin/env node
/**
 * `bench segments --floor`: a stand-in for the purchases stitcher or the segmenter with no Redis and no logic, to
 * measure what the pipeline's shape costs on its own (the floor under the real services' latency): the same
 * consumer-kit loop, group, chunking, Avro decode and encode through the registry, and produce → acknowledge → commit
 * as the real service, with a record out per record in.
 *   FLOOR_ROLE=stitch: purchases → one profile-changes record each (trigger_event_id = the purchase's event id, a
 *     profile_json the size of a new customer's view), keyed like the stitcher's (the profile id: here the input key);
 *   FLOOR_ROLE=segment: profile-changes → two segment-membership-changed records each (what the real segmenter emits
 *     per new customer's first purchase, on average), produced in the handler as the relay would after the apply.
 * The topics, group and ops port come from the same variables as the real services' (STITCHER_GROUP_ID /
 * SEGMENTER_GROUP_ID, STITCHER_OPS_PORT / SEGMENTER_OPS_PORT), so the bench meters, probes and drains it the same way.
 */
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('floor', async () => {
  const { createKitMetrics, decodeMessageRaw, loadSharedConfig, ok, serviceParts, startConsumer, startOpsServer } = await import(
    '@profile-stream/consumer-kit'
  );
  type ProfileChanged = import('@profile-stream/contracts').ProfileChanged;
  type Purchase = import('@profile-stream/contracts').Purchase;
  const role = process.env.FLOOR_ROLE;
  if (role !== 'stitch' && role !== 'segment') throw new Error(`FLOOR_ROLE must be stitch or segment, not ${String(role)}`);
  const shared = loadSharedConfig(process.env);
  const service = `floor-${role}`;
  const { log, topics, kafka, producer, registry } = await serviceParts({ ...shared, service });
  const kit = createKitMetrics(service);
  const changes = topics['profile-changes'].topic;
  const memberships = topics['segment-membership-changed'].topic;
  // A new customer's view after a first purchase is ~1.3 KB of JSON; the floor sends as many bytes.
  const view = JSON.stringify({ profile_id: '', pad: 'x'.repeat(1200) });
  const stitch = async (messages: import('@profile-stream/consumer-kit').KitMessage[]) => {
    const now = Date.now();
    const out = await Promise.all(
      messages.map(async (m) => {
        const p = (await decodeMessageRaw<Purchase>(registry, m)).value;
        const key = m.key?.toString() ?? p.event_id;
        const change: ProfileChanged = {
          event_id: `${key}:${p.event_id}`,
          profile_id: key,
          profile_version: 1,
          cause: 'event',
          trigger_event_id: p.event_id,
          source_topic: m.topic,
          changed_sections: ['orders'],
          occurred_at: p.occurred_at,
          emitted_at: now,
          profile_json: view,
        };
        return { key, value: await registry.encodeTrusted(changes, change) };
      }),
    );
    return { topic: changes, messages: out };
  };
  const segment = async (messages: import('@profile-stream/consumer-kit').KitMessage[]) => {
    const now = Date.now();
    const out = await Promise.all(
      messages.map(async (m) => {
        const c = (await decodeMessageRaw<ProfileChanged>(registry, m)).value;
        JSON.parse(c.profile_json ?? 'null'); // as the segmenter reads the view
        return Promise.all(
          ['active', 'first-time-buyer'].map(async (segment) => ({
            key: c.profile_id,
            value: await registry.encodeTrusted(memberships, {
              event_id: `${c.event_id}:${segment}`,
              profile_id: c.profile_id,
              segment_id: segment,
              segment_version: 1,
              change: 'entered',
              reason: 'rule_matched',
              membership_version: 1,
              occurred_at: c.occurred_at,
              emitted_at: now,
              trigger_event_id: c.trigger_event_id,
              traits: {},
              entity: 'profile',
            }),
          })),
        );
      }),
    );
    return { topic: memberships, messages: out.flat() };
  };
  const stitcher = role === 'stitch';
  const consumer = await startConsumer({
    kafka,
    producer,
    logger: log,
    metrics: kit,
    service,
    groupId: (stitcher ? process.env.STITCHER_GROUP_ID : process.env.SEGMENTER_GROUP_ID) ?? `${service}`,
    topics: [stitcher ? topics.purchases.topic : changes],
    chunkSize: stitcher ? 2000 : 1000,
    partitionsConsumedConcurrently: 6,
    handler: async (messages, ctx) => {
      const records = await ctx.hops.time('encode', () => (stitcher ? stitch(messages) : segment(messages)));
      // as the stitcher: acknowledged in the background before the chunk's commit
      ctx.defer(() => ctx.hops.time('produce', () => producer.sendBatch({ acks: -1, topicMessages: [records] })));
      return messages.map(() => ok());
    },
  });
  const ops = await startOpsServer({
    port: Number((stitcher ? process.env.STITCHER_OPS_PORT : process.env.SEGMENTER_OPS_PORT) ?? 0),
    registry: kit.registry,
    checks: { kafka: () => consumer.healthy() },
  });
  log.info({ role, ops: ops.port }, 'floor service started');
  return {
    log,
    async stop() {
      await consumer.stop();
      await producer.disconnect();
      await ops.close();
    },
  };
});
