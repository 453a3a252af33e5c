import { afterAll, afterEach, beforeAll } from "vitest";
import { connect as connectNats, type ConnectionOptions, type JetStreamManager, type KV, type NatsConnection, type ObjectStore } from "nats";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots, type SnapshotPointer } from "../../../src/cluster/partition-snapshots.js";
import type { Logger } from "../../../src/log.js";
import { LmdbStore, type PartitionWrites } from "../../../src/storage/index.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { tempDataDir } from "../support/test-server.js";

/** What a test undoes when it ends, run last first. */
export type Cleanups = Array<() => Promise<void> | void>;

async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A describe block's cleanups, run after each of its tests. */
export function cleanupsAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(() => runCleanups(cleanups));
  return cleanups;
}

/** A NATS server, and a connection of the test's own to look at its streams and buckets; the cleanups stop both. */
export async function startNatsWithObserver(cleanups: Cleanups): Promise<{ nats: NatsServers; observer: NatsConnection }> {
  const nats = await startNatsServer();
  cleanups.push(() => nats.stop());
  const observer = await connectNats({ servers: nats.urls });
  cleanups.push(() => observer.close());
  return { nats, observer };
}

/**
 * One NATS server and observer for all the tests of a describe block (each test on a hub of its own,
 * so that they start on empty streams); they and the tests' cleanups are closed after the last test.
 */
export function natsForAllTests(): { readonly nats: NatsServers; readonly observer: NatsConnection; readonly cleanups: Cleanups } {
  const cleanups: Cleanups = [];
  let started: { nats: NatsServers; observer: NatsConnection } | undefined;
  beforeAll(async () => {
    started = await startNatsWithObserver(cleanups);
  });
  afterAll(() => runCleanups(cleanups));
  const get = () => {
    if (started === undefined) throw new Error("natsForAllTests: its NATS server is there only during the tests of its block");
    return started;
  };
  return {
    cleanups,
    get nats() {
      return get().nats;
    },
    get observer() {
      return get().observer;
    },
  };
}

export interface LogNodeOptions {
  readonly servers: readonly string[];
  readonly hub: string;
  readonly name: string;
  readonly snapshotEntries?: number;
  /** PartitionLogs' onSnapshot, given the node too (the inbox's trimming needs its store and jsm). */
  readonly onSnapshot?: (partition: number, node: LogNode) => Promise<void>;
  /** More options of the node's NATS connection (how it reconnects). */
  readonly connection?: Omit<ConnectionOptions, "servers">;
}

/**
 * A node's log half without a server: an `LmdbStore` on a temp dir whose commit log is the partitions'
 * logs in NATS, with their snapshots. Tests drive `logs` (open a partition, commit) as a node would.
 */
export interface LogNode {
  readonly store: LmdbStore;
  readonly connection: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly snapshots: PartitionSnapshots;
  readonly logs: PartitionLogs;
  /** What PartitionLogs warned of (a snapshot it could not store): for failure reports. */
  readonly warnings: string[];
}

/** Opens a log node; the cleanups close its connection (closed already if the test killed the node) and store, and remove its dir. */
export async function openLogNode(options: LogNodeOptions, cleanups: Cleanups): Promise<LogNode> {
  const dir = tempDataDir();
  cleanups.push(() => dir.cleanup());
  const store = await LmdbStore.open({ path: dir.path, partitionCount: 2, outbox: true });
  cleanups.push(() => store.close());
  const connection = await connectNats({ ...options.connection, servers: [...options.servers] });
  cleanups.push(() => connection.close().catch(() => undefined));
  const snapshots = await PartitionSnapshots.open(connection, { hub: options.hub, replicas: 1 });
  const jsm = await connection.jetstreamManager();
  const warnings: string[] = [];
  const onSnapshot = options.onSnapshot;
  const logs = new PartitionLogs(connection, store, snapshots, {
    hub: options.hub,
    node: options.name,
    replicas: 1,
    snapshotEntries: options.snapshotEntries,
    onSnapshot: onSnapshot && ((partition) => onSnapshot(partition, node)),
    log: recordingLogger(warnings),
  });
  store.useLog(logs);
  const node: LogNode = { store, connection, jsm, snapshots, logs, warnings };
  return node;
}

/** A logger that keeps the warnings and drops the rest. */
function recordingLogger(warnings: string[]): Logger {
  const ignore = () => undefined;
  const log: Logger = { debug: ignore, info: ignore, warn: (message) => void warnings.push(message), error: ignore, fatal: ignore, child: () => log };
  return log;
}

/** The object store and pointer bucket behind a node's snapshots (private there): where a test hooks a step of a snapshot. */
export function snapshotBuckets(snapshots: PartitionSnapshots): { objects: ObjectStore; index: KV } {
  return snapshots as unknown as { objects: ObjectStore; index: KV };
}

/** The writes of a snapshot, in order: its object stored, then its pointer created (a partition's first) or moved. */
export type SnapshotStep = "object stored" | "pointer created" | "pointer moved";

/** Calls `after(step)` once each write of the node's snapshots has landed, before the snapshot goes on: a test kills the node there. */
export function afterSnapshotSteps(snapshots: PartitionSnapshots, after: (step: SnapshotStep) => Promise<void>): void {
  const { objects, index } = snapshotBuckets(snapshots);
  const putBlob = objects.putBlob.bind(objects);
  objects.putBlob = async (...args) => {
    const info = await putBlob(...args);
    await after("object stored");
    return info;
  };
  const create = index.create.bind(index);
  index.create = async (...args) => {
    const revision = await create(...args);
    await after("pointer created");
    return revision;
  };
  const update = index.update.bind(index);
  index.update = async (...args) => {
    const revision = await update(...args);
    await after("pointer moved");
    return revision;
  };
}

/** Resolves once `condition()` holds, asking every 50 ms: for conditions on what NATS holds (support/until.ts checks in-process ones). */
export async function pollUntil(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1_000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first sequence a stream still holds: above 1 once it was purged (a log) or trimmed (an inbox). */
export async function firstSequence(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.first_seq;
}

/** The pointer to a partition's latest snapshot, as the hub's index bucket holds it; undefined before the first. */
export async function snapshotPointer(connection: NatsConnection, hub: string, partition = 0): Promise<SnapshotPointer | undefined> {
  const index = await connection.jetstream().views.kv(`DE_${hub}_SNAPSHOT_INDEX`, { bindOnly: true });
  return (await index.get(`p.${partition}`))?.json<SnapshotPointer>();
}

/** The names of the objects a snapshot store holds (those not deleted). */
export async function storedObjects(objects: ObjectStore): Promise<string[]> {
  return (await objects.list()).filter((info) => !info.deleted).map((info) => info.name);
}

/** Entry `index` of the tests' partition 0: its key `k<index>` set to `"<index>"`. */
export function testEntry(index: number): PartitionWrites[] {
  return [{ partition: 0, writes: [{ key: [0, "t", `k${index}`], value: String(index) }] }];
}

/** Like testEntry, with the partition's inbox position moved to `index` (as if the inbox's message `index` was applied). */
export function testEntryWithInbox(index: number): PartitionWrites[] {
  return [
    {
      partition: 0,
      writes: [
        { key: [0, "t", `k${index}`], value: String(index) },
        { key: [0, "c", "inbox"], value: JSON.stringify(index) },
      ],
    },
  ];
}

/** What a store's partition 0 holds of the tests' keys, by name: `{ k1: "1", … }`. */
export function testState(store: LmdbStore): Record<string, string | undefined> {
  return Object.fromEntries(
    store
      .readPartition(0)
      .filter((write) => write.key[1] === "t")
      .map((write) => [write.key[2], write.value]),
  );
}

/** The testState after the test entries `first` to `last`. */
export function testStateAfter(first: number, last: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: last - first + 1 }, (_, offset) => [`k${first + offset}`, String(first + offset)]));
}
