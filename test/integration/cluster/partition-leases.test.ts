import type { KV, NatsConnection } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectToNats } from "../../../src/cluster/nats-connection.js";
import { PartitionLeases, type PartitionLeasesOptions } from "../../../src/cluster/partition-leases.js";
import { startNatsCluster, startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { until } from "../support/until.js";

// Short leases so that lapses happen within a test; the waits below are generous deadlines, not timings.
const LEASE_MS = 1_500;
const RENEW_MS = 250;
const PARTITIONS = 16;
const DEADLINE_MS = 20_000;

interface LeaseEvent {
  readonly kind: "acquired" | "lost" | "releasing";
  readonly partition: number;
  readonly epoch?: number;
}

/** One node of a test: its own connection (as its own process would have), leases, and what its handlers saw. */
interface TestNode {
  readonly name: string;
  readonly events: LeaseEvent[];
  readonly warnings: string[];
  readonly leases: PartitionLeases;
  readonly connection: NatsConnection;
}

interface NodeOptions {
  readonly replicas?: number;
  readonly now?: () => number;
  /** Runs inside `acquired`, which resolves when it does; a throw rejects it. */
  readonly opening?: (partition: number, epoch: number) => void | Promise<void>;
}

const running: TestNode[] = [];

async function startNode(urls: string[], hub: string, name: string, options: NodeOptions = {}): Promise<TestNode> {
  const connection = await connectToNats(urls, `leases-${name}`);
  const events: LeaseEvent[] = [];
  const warnings: string[] = [];
  const leaseOptions: PartitionLeasesOptions = {
    hub,
    node: name,
    partitionCount: PARTITIONS,
    leaseMs: LEASE_MS,
    renewMs: RENEW_MS,
    replicas: options.replicas ?? 1,
    log: { warn: (message) => void warnings.push(message) },
    ...(options.now ? { now: options.now } : {}),
    handlers: {
      acquired: async (partition, epoch) => {
        events.push({ kind: "acquired", partition, epoch });
        await options.opening?.(partition, epoch);
      },
      lost: (partition) => void events.push({ kind: "lost", partition }),
      releasing: async (partition) => void events.push({ kind: "releasing", partition }),
    },
  };
  const leases = await PartitionLeases.start(connection, leaseOptions);
  const node = { name, events, warnings, leases, connection };
  running.push(node);
  return node;
}

/** Which nodes hold (opened) each partition right now. */
function holders(nodes: readonly TestNode[]): string[][] {
  const byPartition = Array.from({ length: PARTITIONS }, () => [] as string[]);
  for (const node of nodes) for (const partition of node.leases.held()) byPartition[partition]!.push(node.name);
  return byPartition;
}

/** Every partition is held by exactly one of `nodes`. */
function eachHeldOnce(nodes: readonly TestNode[]): boolean {
  return holders(nodes).every((names) => names.length === 1);
}

/**
 * Polls every node's held() while a test runs and remembers any moment a partition was held by two.
 * It shares the event loop with the nodes, so it samples between their steps, not within them.
 */
function watchForOverlap(nodes: () => readonly TestNode[]): { stop(): string[] } {
  const overlaps: string[] = [];
  const timer = setInterval(() => {
    holders(nodes()).forEach((names, partition) => names.length > 1 && overlaps.push(`partition ${partition} held by ${names.join(" and ")}`));
  }, 5);
  return {
    stop: () => {
      clearInterval(timer);
      return overlaps;
    },
  };
}

function acquisitions(node: TestNode): LeaseEvent[] {
  return node.events.filter((event) => event.kind === "acquired");
}

async function openBucket(connection: NatsConnection, hub: string): Promise<KV> {
  return connection.jetstream().views.kv(`DE_${hub}_LEASES`, { bindOnly: true });
}

/** The lease stored for each partition, as `node@epoch` (`-@epoch` once given back). */
async function storedLeases(kv: KV): Promise<string[]> {
  const leases: string[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const value = (await kv.get(`p.${partition}`))?.json<{ node: string | null; epoch: number }>();
    leases.push(`${value?.node ?? "-"}@${value?.epoch}`);
  }
  return leases;
}

/** Resolves once `check()` has held for `steadyMs` on end (not once, as until() does), within `timeoutMs`. */
async function untilSteady(check: () => boolean, steadyMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let holdingSince: number | undefined;
  for (;;) {
    if (!check()) holdingSince = undefined;
    else if ((holdingSince ??= Date.now()) + steadyMs <= Date.now()) return;
    if (Date.now() > deadline) throw new Error(`condition not steady for ${steadyMs} ms within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves once a write to the bucket succeeds: after a server loss, once its stream has a leader again. */
async function untilWritable(kv: KV, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await kv.put("t.probe", "probe");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

let nextHub = 0;
const newHub = () => `leases${++nextHub}`;

afterEach(async () => {
  for (const node of running.splice(0)) {
    node.leases.abandon();
    await node.connection.close();
  }
});

describe("partition leases on one nats-server", () => {
  let servers: NatsServers;

  beforeAll(async () => {
    servers = await startNatsServer();
  });
  afterAll(async () => {
    await servers?.stop();
  });

  it("gives one node every partition, each opened once at epoch 1", async () => {
    const hub = newHub();
    const a = await startNode(servers.urls, hub, "a");
    await a.leases.untilAllOwned(DEADLINE_MS);

    expect(a.leases.held()).toEqual(Array.from({ length: PARTITIONS }, (_, partition) => partition));
    expect(acquisitions(a).map((event) => [event.partition, event.epoch]).sort((x, y) => x[0]! - y[0]!)).toEqual(Array.from({ length: PARTITIONS }, (_, partition) => [partition, 1]));
    expect(a.leases.owner(3)).toBe("a");
    expect(a.leases.liveNodes()).toEqual(["a"]);
    expect(a.events.filter((event) => event.kind !== "acquired")).toEqual([]);
    expect(await storedLeases(await openBucket(a.connection, hub))).toEqual(Array(PARTITIONS).fill("a@1"));
  });

  it("shares 16 partitions 6/5/5 among three nodes started one after another, never two holders at once", async () => {
    const hub = newHub();
    const nodes: TestNode[] = [];
    const overlap = watchForOverlap(() => nodes);
    nodes.push(await startNode(servers.urls, hub, "a"));
    await nodes[0]!.leases.untilAllOwned(DEADLINE_MS);
    nodes.push(await startNode(servers.urls, hub, "b"));
    await until(() => eachHeldOnce(nodes) && nodes.every((node) => node.leases.held().length === 8), DEADLINE_MS);
    nodes.push(await startNode(servers.urls, hub, "c"));
    await until(() => eachHeldOnce(nodes) && nodes.map((node) => node.leases.held().length).join() === "6,5,5", DEADLINE_MS);
    await Promise.all(nodes.map((node) => node.leases.untilAllOwned(DEADLINE_MS)));

    expect(overlap.stop()).toEqual([]);
    // Each move was one hand-off: a took 16, gave 8 to b, then 2 to c, and b gave c 3. No ping-pong.
    expect(nodes.map((node) => acquisitions(node).length)).toEqual([16, 8, 5]);
    expect(nodes.flatMap((node) => node.events.filter((event) => event.kind === "lost"))).toEqual([]);
    for (const node of nodes) expect(node.leases.liveNodes()).toEqual(["a", "b", "c"]);
    const c = nodes[2]!;
    for (const holder of nodes) for (const partition of holder.leases.held()) expect(c.leases.owner(partition)).toBe(holder.name);
  });

  it("moves an abandoned node's partitions to the others at a higher epoch", async () => {
    const hub = newHub();
    const a = await startNode(servers.urls, hub, "a");
    await a.leases.untilAllOwned(DEADLINE_MS);
    const b = await startNode(servers.urls, hub, "b");
    const c = await startNode(servers.urls, hub, "c");
    await until(() => eachHeldOnce([a, b, c]) && [a, b, c].every((node) => node.leases.held().length >= 5), DEADLINE_MS);
    const fromA = a.leases.held();
    const epochs = new Map(fromA.map((partition) => [partition, acquisitions(a).filter((event) => event.partition === partition).at(-1)!.epoch!]));

    const heardBefore = a.events.length;
    a.leases.abandon();
    await until(() => eachHeldOnce([b, c]) && b.leases.liveNodes().join() === "b,c", DEADLINE_MS);
    await b.leases.untilAllOwned(DEADLINE_MS);

    expect([b, c].map((node) => node.leases.held().length)).toEqual([8, 8]);
    for (const partition of fromA) {
      const taken = [...acquisitions(b), ...acquisitions(c)].filter((event) => event.partition === partition).at(-1)!;
      expect(taken.epoch).toBeGreaterThan(epochs.get(partition)!);
    }
    // The abandoned node heard nothing more: a crashed process would not have either.
    expect(a.events.slice(heardBefore)).toEqual([]);
  });

  it("hands off a stopping node's partitions, releasing each before another node opens it", async () => {
    const hub = newHub();
    const nodes = [await startNode(servers.urls, hub, "a"), await startNode(servers.urls, hub, "b"), await startNode(servers.urls, hub, "c")];
    await until(() => eachHeldOnce(nodes) && nodes.every((node) => node.leases.held().length >= 5), DEADLINE_MS);
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const fromA = a.leases.held();
    const overlap = watchForOverlap(() => nodes);

    const heardBefore = a.events.length;
    await a.leases.stop();
    expect(a.leases.held()).toEqual([]);
    const heardInStop = a.events.slice(heardBefore);
    expect(heardInStop.map((event) => event.kind)).toEqual(Array(fromA.length).fill("releasing"));
    expect(heardInStop.map((event) => event.partition).sort((x, y) => x - y)).toEqual(fromA);
    await until(() => eachHeldOnce([b, c]) && b.leases.held().length === 8 && c.leases.held().length === 8, DEADLINE_MS);

    expect(overlap.stop()).toEqual([]);
    expect(b.leases.liveNodes()).toEqual(["b", "c"]);
    // Given back, not lapsed: the next owner goes one epoch past the stored one.
    const stored = await storedLeases(await openBucket(b.connection, hub));
    for (const partition of fromA) expect(stored[partition]).toMatch(/^[bc]@2$/);
  });

  it("takes back at once, at a higher epoch, the leases of its earlier run when a node restarts after a crash", async () => {
    const hub = newHub();
    // A clock that never moves: no lease can lapse, so only knowing them its own lets the new run take them.
    const frozen = () => 0;
    const first = await startNode(servers.urls, hub, "a", { now: frozen });
    await first.leases.untilAllOwned(DEADLINE_MS);
    first.leases.abandon(); // a crash: its leases stay in the bucket, naming "a"
    const b = await startNode(servers.urls, hub, "b", { now: frozen });

    const again = await startNode(servers.urls, hub, "a", { now: frozen });
    await until(() => again.leases.held().length === PARTITIONS / 2, DEADLINE_MS);
    expect(acquisitions(again).every((event) => event.epoch === 2)).toBe(true);
    // Another node does not take a live-looking lease of "a": b holds nothing that a's earlier run held.
    expect(b.leases.held()).toEqual([]);
    const stored = await storedLeases(await openBucket(again.connection, hub));
    expect(stored.filter((lease) => lease === "a@2")).toHaveLength(PARTITIONS / 2);
    expect(stored.filter((lease) => lease === "a@1")).toHaveLength(PARTITIONS / 2); // beyond its share: left to lapse
  });

  it("calls lost for every lease it could not renew for a lease's length, before renewing any", async () => {
    const hub = newHub();
    let jumped = 0;
    const a = await startNode(servers.urls, hub, "a", { now: () => performance.now() + jumped });
    await a.leases.untilAllOwned(DEADLINE_MS);
    a.events.splice(0);

    // As if the process had been paused (SIGSTOP) for ten leases: nothing was renewed meanwhile.
    jumped += 10 * LEASE_MS;
    // Had a renewal succeeded after the jump, the lease would count from then and not be lost.
    await until(() => a.events.filter((event) => event.kind === "lost").length === PARTITIONS, DEADLINE_MS);

    // Nobody took them meanwhile, so this node takes them anew, as a new owner: at epoch 2.
    await a.leases.untilAllOwned(DEADLINE_MS);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const events = a.events.filter((event) => event.partition === partition);
      expect(events).toEqual([{ kind: "lost", partition }, { kind: "acquired", partition, epoch: 2 }]);
    }
    expect(await storedLeases(await openBucket(a.connection, hub))).toEqual(Array(PARTITIONS).fill("a@2"));
  });

  it("keeps renewing a lease while its partition takes longer than a lease to open", async () => {
    const hub = newHub();
    let opened = false;
    const a = await startNode(servers.urls, hub, "a", {
      opening: async (partition) => {
        if (partition === 0) await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_MS)).then(() => (opened = true));
      },
    });
    await until(() => a.leases.held().length === PARTITIONS - 1, DEADLINE_MS);
    expect(a.leases.held()).not.toContain(0);
    expect(a.leases.owner(0)).toBe("a");

    await a.leases.untilAllOwned(DEADLINE_MS);
    expect(opened).toBe(true);
    expect(a.events.filter((event) => event.kind !== "acquired")).toEqual([]);
    expect(a.events.filter((event) => event.partition === 0)).toEqual([{ kind: "acquired", partition: 0, epoch: 1 }]);
  });

  it("gives back the lease of a partition whose opening failed, and tries it again later", async () => {
    const hub = newHub();
    let failures = 0;
    const a = await startNode(servers.urls, hub, "a", {
      opening: (partition) => {
        if (partition === 5 && failures++ === 0) throw new Error("disk full");
      },
    });
    await a.leases.untilAllOwned(DEADLINE_MS);

    expect(a.events.filter((event) => event.partition === 5)).toEqual([
      { kind: "acquired", partition: 5, epoch: 1 },
      { kind: "acquired", partition: 5, epoch: 2 },
    ]);
    expect(a.leases.held()).toContain(5);
    expect(a.warnings).toContain("opening a partition failed; giving its lease back");
    expect((await storedLeases(await openBucket(a.connection, hub)))[5]).toBe("a@2");
  });
});

describe("partition leases on a three-server cluster, three replicas", () => {
  let servers: NatsServers;

  beforeAll(async () => {
    servers = await startNatsCluster(3);
  });
  afterAll(async () => {
    await servers?.stop();
  });

  it("keeps every partition owned once when the bucket's leader server is SIGKILLed", async () => {
    const hub = newHub();
    const nodes: TestNode[] = [];
    for (const name of ["a", "b", "c"]) nodes.push(await startNode(servers.urls, hub, name, { replicas: 3 }));
    await until(() => eachHeldOnce(nodes) && nodes.map((node) => node.leases.held().length).join() === "6,5,5", DEADLINE_MS);

    const jsm = await nodes[0]!.connection.jetstreamManager();
    const leader = (await jsm.streams.info(`KV_DE_${hub}_LEASES`)).cluster?.leader;
    const leaderIndex = Number(/^n(\d+)$/.exec(leader ?? "")?.[1]);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    const kv = await openBucket(nodes[0]!.connection, hub);
    await servers.kill(leaderIndex);
    await untilWritable(kv, 30_000);

    // Leases may lapse while a new leader is elected (each node then calls lost and takes partitions
    // anew); once the bucket answers again, each partition settles with one owner.
    await untilSteady(() => eachHeldOnce(nodes) && nodes.every((node) => node.leases.held().length >= 5), 3 * LEASE_MS, 30_000);
    await Promise.all(nodes.map((node) => node.leases.untilAllOwned(30_000)));
    const stored = await storedLeases(kv);
    for (const node of nodes) for (const partition of node.leases.held()) expect(stored[partition]).toMatch(new RegExp(`^${node.name}@`));
  });
});
