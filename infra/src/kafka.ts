/**
 * Apache Kafka 4.x, KRaft, one node that is broker and controller. Jars come from Maven Central
 * (infra/kafka/pom.xml, resolved with its runtime dependencies into the cache); storage is formatted once.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, probeKafka, REPO_ROOT } from '@profile-stream/consumer-kit';
import { componentFiles, type Component, type ComponentContext } from './component.ts';
import { run, spawnDetached } from './proc.ts';
import { requireTool } from './tools.ts';

export const KAFKA_VERSION = '4.4.0';

/**
 * JVM options of the local broker, sized for a small machine. C1 only (TieredStopAtLevel=1): measured on a 2-core
 * machine under `bench segments`, C2 recompiling the broker's hot paths kept a core busy through every load
 * (~100 % of a core in "C2 CompilerThread0", against ~25 % for the broker's own work).
 */
export const KAFKA_JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20'];

/**
 * Settings a single node needs: every internal topic with replication factor 1. One network thread and two request
 * handler threads (defaults 3 and 8): on the 2-core machine each request went through as many thread hand-offs
 * competing for the same cores; measured with `bench segments` (issue 12), the broker's CPU stayed the same (32–37 %
 * of a core) and input → membership at 1,000 events/s went from p50 657–771 ms / p99 0.98–1.57 s (five runs) to
 * p50 388–645 ms / p99 836–1,059 ms (four runs).
 */
export function serverProperties(o: { port: number; controllerPort: number; logDir: string; partitions: number }): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${o.logDir}`,
    `num.partitions=${o.partitions}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=6',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'log.retention.hours=168',
    'num.network.threads=1',
    'num.io.threads=2',
    '',
  ].join('\n');
}

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka
        level: INFO
      - name: org.apache.kafka
        level: WARN
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
`;

export function kafkaComponent(ctx: ComponentContext): Component {
  const { conn, log } = ctx;
  const home = join(conn.cacheDir, `kafka-${KAFKA_VERSION}`);
  const libs = join(home, 'libs');
  const dataDir = join(conn.dataDir, 'kafka');
  const files = componentFiles(ctx, 'kafka');
  const classpath = `${libs}/*`;

  return {
    name: 'kafka',
    port: conn.kafka.local ? conn.kafka.port : undefined,
    managed: true,
    external: !conn.kafka.local,
    ...files,
    async fetch() {
      if (existsSync(libs) && readdirSync(libs).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) return;
      requireTool('java', 'the Kafka broker', 'install Java 17+ (apt-get install -y openjdk-17-jre-headless)');
      requireTool('mvn', 'fetching Kafka from Maven Central', 'install Maven (apt-get install -y maven)');
      log.info({ version: KAFKA_VERSION }, 'resolving Kafka and its runtime dependencies from Maven Central (once)');
      run('mvn', [
        '-q',
        '-B',
        '-f',
        join(REPO_ROOT, 'infra/kafka/pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${libs}`,
        '-DincludeScope=runtime',
        `-Dkafka.version=${KAFKA_VERSION}`,
      ]);
    },
    async start() {
      mkdirSync(dataDir, { recursive: true });
      const config = join(dataDir, 'server.properties');
      writeFileSync(
        config,
        serverProperties({ port: conn.kafka.port, controllerPort: conn.kafka.controllerPort, logDir: join(dataDir, 'logs'), partitions: conn.partitions }),
      );
      writeFileSync(join(dataDir, 'log4j2.yaml'), LOG4J2);
      if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
        const clusterId = run('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']).trim().split('\n').pop()!;
        run('java', [
          '-cp',
          classpath,
          `-Dlog4j2.configurationFile=${join(dataDir, 'log4j2.yaml')}`,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          config,
          '--standalone',
        ]);
        log.info({ clusterId, dataDir }, 'formatted Kafka storage');
      }
      spawnDetached({
        command: 'java',
        args: [
          '-Xms256m',
          '-Xmx1g',
          ...KAFKA_JVM_OPTIONS,
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${join(dataDir, 'log4j2.yaml')}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          config,
        ],
        ...files,
      });
    },
    async ready() {
      const kafka = createKafka({
        brokers: conn.kafka.brokers,
        clientId: 'profile-stream-stack',
        logger: log.child({}, { level: 'silent' }),
        connectionTimeout: 1000,
        retries: 0,
      });
      await probeKafka(kafka);
      return true;
    },
    version: () => (conn.kafka.local ? `Apache Kafka ${KAFKA_VERSION} (KRaft)` : 'external'),
  };
}
