import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type DurableClient, type FailedSignal, type InstanceQuery } from "../../../clients/index.js";
import { compareIds } from "../../../src/storage/index.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { freePort } from "../support/test-server.js";
import { TestCluster, type ClusterNode } from "./cluster-nodes.js";

const APP = fileURLToPath(new URL("../../fixtures/cluster-listing-app.ts", import.meta.url));
const PARTITIONS = 16;
/** Longer than the helper's default, so that the partitions of the node paused in the last test stay its own while it is asked. */
const LEASE_MS = 5_000;
const API = "/runtime/webhooks/durabletask";
const COUNTERS = 240;
/** Counters deleted (no state, their records kept until a clean): every tenth. */
const DELETED = (i: number) => i % 10 === 0;
const GREETINGS = 45;
const DOOMED = 15;
const WAITING = 15;
const FAILED_SIGNALS = 24;

/**
 * Listings, counts, clean and bulk purge in a three-node cluster on one nats-server: asked through any
 * node, each covers every partition (the node's own and the others', from their owners), merged as one
 * server would give it, with continuations that any node takes; a partition whose owner does not
 * answer fails the request with `store_unavailable` (HTTP 503) rather than leave its part out.
 */
describe("listings across a three-node cluster", () => {
  let nats: NatsServers;
  let cluster: TestCluster;
  let nodes: ClusterNode[];
  let clients: DurableClient[];
  let ownership: Map<string, number[]>;

  const counterIds = Array.from({ length: COUNTERS }, (_, i) => `Counter/k-${i}`);
  const liveCounters = counterIds.filter((_, i) => !DELETED(i)).sort(compareIds);
  const instanceIds = {
    Completed: Array.from({ length: GREETINGS }, (_, i) => `done-${i}`),
    Failed: Array.from({ length: DOOMED }, (_, i) => `failed-${i}`),
    Running: Array.from({ length: WAITING }, (_, i) => `wait-${i}`),
  };
  /** One server's order of instances: partition by partition, ids in key order within each. */
  const storageOrder = (ids: readonly string[]) => [...ids].sort((a, b) => partitionOf(a, PARTITIONS) - partitionOf(b, PARTITIONS) || compareIds(a, b));

  beforeAll(async () => {
    nats = await startNatsServer();
    cluster = new TestCluster(nats.urls, LEASE_MS);
    nodes = [];
    for (const name of ["a", "b", "c"]) nodes.push(await cluster.startAt(name, await freePort(), ["--app", APP]));
    ownership = await cluster.untilSpread(PARTITIONS, 4, 120_000);
    clients = await Promise.all(nodes.map((node) => connect(node.url, { clientId: `listings-${node.name}` })));

    // Entities: asked through every node, so that most go to another node's partition.
    for (let from = 0; from < COUNTERS; from += 60) {
      await Promise.all(counterIds.slice(from, from + 60).map((id, i) => clients[(from + i) % 3]!.call(id, "add", from + i + 1)));
    }
    await Promise.all(counterIds.filter((_, i) => DELETED(i)).map((id, i) => clients[i % 3]!.call(id, "delete")));

    // Instances that complete, fail and keep running.
    const started = [
      ...instanceIds.Completed.map((instanceId, i) => clients[i % 3]!.start("Greetings", `n${i}`, { instanceId })),
      ...instanceIds.Failed.map((instanceId, i) => clients[i % 3]!.start("Doomed", null, { instanceId })),
      ...instanceIds.Running.map((instanceId, i) => clients[i % 3]!.start("Waiting", null, { instanceId })),
    ];
    await Promise.all(started);
    for (const instanceId of [...instanceIds.Completed, ...instanceIds.Failed]) await clients[0]!.waitForCompletion(instanceId, { timeoutMs: 60_000 });
    for (const instanceId of instanceIds.Running) await until(async () => (await clients[1]!.status(instanceId))?.runtimeStatus === "Running", `${instanceId} running`);

    // Failed signals between entities, kept (and numbered) by the owners of their targets' partitions.
    await Promise.all(Array.from({ length: FAILED_SIGNALS }, (_, i) => clients[i % 3]!.call(`Sender/s-${i}`, "send", { to: `Fragile/f-${i}`, n: i })));
    await until(async () => (await allFailures(clients[0]!, { limit: 1000 })).length === FAILED_SIGNALS, "every failed signal kept");
  }, 300_000);

  afterAll(async () => {
    await Promise.all((clients ?? []).map((client) => client.close()));
    await cluster?.stop();
    await nats?.stop();
  });

  it("spreads what it lists over every partition and every node", () => {
    expect(new Set(counterIds.map((id) => partitionOf(id, PARTITIONS))).size).toBe(PARTITIONS);
    expect(new Set(Object.values(instanceIds).flat().map((id) => partitionOf(id, PARTITIONS))).size).toBe(PARTITIONS);
    expect([...ownership.values()].every((owned) => owned.length >= 4)).toBe(true);
  });

  it("lists every node's entities through any node, in id order, a page at a time, with the count", async () => {
    for (const client of clients) {
      const { ids, count } = await allEntities(client, { type: "Counter", pageSize: 7 });
      expect(ids).toEqual(liveCounters);
      expect(count).toBe(liveCounters.length);
      const withDeleted = await allEntities(client, { type: "Counter", pageSize: 50, includeDeleted: true });
      expect(withDeleted.ids).toEqual([...counterIds].sort(compareIds));
      expect(withDeleted.count).toBe(COUNTERS);
      expect((await allEntities(client, { type: "Counter", pageSize: 5, prefix: "k-1" })).ids).toEqual(liveCounters.filter((id) => id.startsWith("Counter/k-1")));
    }
    // States, versions and a page's continuation taken by another node.
    const first = await clients[0]!.listEntities({ type: "Counter", pageSize: 10, includeState: true });
    expect(first.entities.map((entity) => entity.id)).toEqual(liveCounters.slice(0, 10));
    for (const entity of first.entities) expect(entity.state).toBe(Number(entity.id.slice("Counter/k-".length)) + 1);
    const second = await clients[1]!.listEntities({ type: "Counter", pageSize: 10, continuation: first.continuation });
    const third = await clients[2]!.listEntities({ type: "Counter", pageSize: 10, continuation: second.continuation });
    expect([...second.entities, ...third.entities].map((entity) => entity.id)).toEqual(liveCounters.slice(10, 30));
    await expect(clients[1]!.listEntities({ type: "Counter", continuation: "bm90IGEgdG9rZW4" })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("lists entities over Durable Functions' HTTP API through any node, paged by its continuation header", async () => {
    for (const node of nodes) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const response = await fetch(`${node.url}${API}/entities/Counter?top=11&fetchState=true`, { headers: token === undefined ? {} : { "x-ms-continuation-token": token } });
        expect(response.status).toBe(200);
        const page = (await response.json()) as Array<{ entityId: { key: string }; state: number }>;
        for (const item of page) expect(item.state).toBe(Number(item.entityId.key.slice("k-".length)) + 1);
        keys.push(...page.map((item) => item.entityId.key));
        token = response.headers.get("x-ms-continuation-token") ?? undefined;
      } while (token !== undefined);
      expect(keys.map((key) => `Counter/${key}`)).toEqual(liveCounters);
    }
  });

  it("lists and queries instances through any node, in one server's order, a page at a time", async () => {
    const all = storageOrder(Object.values(instanceIds).flat());
    for (const client of clients) expect(await allInstances(client, { pageSize: 8 })).toEqual(all);
    const client = clients[2]!;
    expect(await allInstances(client, { pageSize: 6, runtimeStatus: ["Completed"] })).toEqual(storageOrder(instanceIds.Completed));
    expect(await allInstances(client, { pageSize: 1000, runtimeStatus: ["Failed", "Running"] })).toEqual(storageOrder([...instanceIds.Failed, ...instanceIds.Running]));
    expect(await allInstances(client, { name: "Waiting" })).toEqual(storageOrder(instanceIds.Running));
    expect(await allInstances(client, { pageSize: 4, instanceIdPrefix: "done-1" })).toEqual(storageOrder(instanceIds.Completed.filter((id) => id.startsWith("done-1"))));
    // A continuation given by one node, taken by another.
    const first = await clients[0]!.list({ pageSize: 20 });
    const rest = await allInstances(clients[1]!, { pageSize: 20, continuation: first.continuation });
    expect([...first.instances.map((status) => status.instanceId), ...rest]).toEqual(all);
    // Statuses as their owners have them.
    const failed = await clients[0]!.list({ runtimeStatus: ["Failed"], pageSize: 1000 });
    expect(failed.instances.every((status) => status.name === "Doomed" && status.runtimeStatus === "Failed" && status.failureDetails !== undefined)).toBe(true);
    await expect(clients[1]!.list({ continuation: "bm90IGEgdG9rZW4" })).rejects.toMatchObject({ code: "bad_request" });
  });

  it("lists instances over Durable Functions' HTTP API through any node, with its filters and continuation header", async () => {
    for (const node of nodes) {
      expect(await httpInstances(node, "top=10")).toEqual(storageOrder(Object.values(instanceIds).flat()));
      expect(await httpInstances(node, "top=7&runtimeStatus=Failed,Completed")).toEqual(storageOrder([...instanceIds.Failed, ...instanceIds.Completed]));
      expect(await httpInstances(node, "instanceIdPrefix=wait-&showInput=false")).toEqual(storageOrder(instanceIds.Running));
    }
  });

  it("lists the failed signals of every partition through any node, each once, newest first", async () => {
    for (const client of clients) {
      for (const limit of [5, 1000]) {
        const failures = await allFailures(client, { limit });
        expect(failures.map((failure) => failure.entityId).sort()).toEqual(Array.from({ length: FAILED_SIGNALS }, (_, i) => `Fragile/f-${i}`).sort());
        expect(failures.map((failure) => failure.seq)).toEqual(failures.map((failure) => failure.seq).sort((a, b) => b - a));
        for (const failure of failures) expect(failure).toMatchObject({ operation: "explode", code: "operation_failed", source: `Sender/s-${failure.entityId.slice("Fragile/f-".length)}` });
      }
      expect(await allFailures(client, { limit: 3, entityType: "Fragile" })).toHaveLength(FAILED_SIGNALS);
      expect(await allFailures(client, { entityType: "Counter" })).toEqual([]);
    }
  });

  it("lists a state larger than a NATS message from another node's partition whole", async () => {
    const [asked, owner] = [nodes[0]!, nodes[1]!];
    const owned = new Set(ownership.get(owner.name));
    let id = "";
    for (let i = 0; id === ""; i++) if (owned.has(partitionOf(`Blob/b-${i}`, PARTITIONS))) id = `Blob/b-${i}`;
    const chunk = "x".repeat(200_000);
    for (let step = 1; step <= 7; step++) expect(await clients[1]!.call(id, "append", chunk)).toBe(step * 200_000);
    const page = await clients[0]!.listEntities({ type: "Blob", includeState: true });
    expect(page.entities.map((entity) => [entity.id, (entity.state as string).length])).toEqual([[id, 1_400_000]]);
    const response = await fetch(`${asked.url}${API}/entities/Blob?fetchState=true`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Array<{ state: string }>).map((item) => item.state.length)).toEqual([1_400_000]);
  });

  it("cleans the empty entities of every partition through one node", async () => {
    const report = await clients[1]!.cleanEntities({ entityType: "Counter" });
    const deleted = counterIds.filter((_, i) => DELETED(i)).sort(compareIds);
    expect(report).toEqual({ removedEmpty: deleted.length, locksFreed: 0, removed: deleted, unlocked: [] });
    for (const client of clients) expect((await allEntities(client, { type: "Counter", pageSize: 100, includeDeleted: true })).ids).toEqual(liveCounters);
    expect(await clients[2]!.cleanEntities()).toEqual({ removedEmpty: 0, locksFreed: 0, removed: [], unlocked: [] });
  });

  it("keeps a deleted entity that a client of another node follows, and removes it once nobody does", { timeout: 240_000 }, async () => {
    const id = "Counter/followed-elsewhere";
    const owner = nodes.findIndex((node) => ownership.get(node.name)!.includes(partitionOf(id, PARTITIONS)));
    const follower = clients[(owner + 1) % 3]!;
    await clients[owner]!.call(id, "add", 1);
    const seen: unknown[] = [];
    const live = follower.subscribe(id, (state) => seen.push(state));
    await live.ready;
    await follower.call(id, "delete");
    await until(async () => seen.at(-1) === null, "the deletion relayed to the follower's node"); // the owner knows it is followed

    for (const client of clients) expect((await client.cleanEntities({ entityType: "Counter" })).removed).not.toContain(id);
    await live.close();
    // Once the follower's node drops its idle feed (30 s after its last subscriber left) and the owner's record of the interest runs out.
    await until(async () => (await clients[owner]!.cleanEntities({ entityType: "Counter" })).removed.includes(id), "removed once nobody follows it", 180_000);
    expect((await allEntities(clients[2]!, { type: "Counter", pageSize: 100, includeDeleted: true })).ids).toEqual(liveCounters);
  });

  it("purges the matching finished instances of every partition through one node", async () => {
    const purge = (node: ClusterNode, query: string) => fetch(`${node.url}${API}/instances?createdTimeFrom=2000-01-01T00:00:00Z&${query}`, { method: "DELETE" });
    const response = await purge(nodes[2]!, "runtimeStatus=Completed");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ instancesDeleted: GREETINGS });
    for (const client of clients) {
      expect(await allInstances(client, { runtimeStatus: ["Completed"] })).toEqual([]);
      expect(await allInstances(client, { pageSize: 9 })).toEqual(storageOrder([...instanceIds.Failed, ...instanceIds.Running]));
    }
    expect((await purge(nodes[0]!, "runtimeStatus=Completed")).status).toBe(404);
    // Running instances are never purged; the failed ones are, through another node.
    const failed = await purge(nodes[1]!, "");
    expect(await failed.json()).toEqual({ instancesDeleted: DOOMED });
    expect(await allInstances(clients[0]!, {})).toEqual(storageOrder(instanceIds.Running));
  });

  it("answers store_unavailable (HTTP 503), not a shorter list, when a partition's owner does not answer", async () => {
    const paused = nodes[2]!;
    const [client, other] = [clients[0]!, nodes[1]!];
    paused.child.kill("SIGSTOP");
    try {
      // Asked at once, while the paused node still holds its partitions' leases: their questions reach only it.
      const asked = await Promise.allSettled([
        client.listEntities({ type: "Counter", count: true }),
        client.list({ pageSize: 1000 }),
        client.failures(),
        client.cleanEntities({ entityType: "Counter" }),
        fetch(`${other.url}${API}/instances?top=1000`),
        fetch(`${other.url}${API}/entities/Counter`),
      ]);
      for (const result of asked.slice(0, 4)) {
        expect(result.status).toBe("rejected");
        expect((result as PromiseRejectedResult).reason).toMatchObject({ code: "store_unavailable", message: expect.stringMatching(/did not answer/) });
      }
      for (const result of asked.slice(4)) {
        const response = (result as PromiseFulfilledResult<Response>).value;
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: "store_unavailable", message: expect.stringMatching(/did not answer/) });
      }
    } finally {
      paused.child.kill("SIGCONT");
    }
  }, 120_000);
});

/** Waits (setup only: hooks cannot use expect.poll) until `done` says so, for at most a minute. */
async function until(done: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not the case within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function allEntities(client: DurableClient, query: Parameters<DurableClient["listEntities"]>[0]): Promise<{ ids: string[]; count: number | undefined }> {
  const ids: string[] = [];
  let continuation: string | undefined;
  let count: number | undefined;
  let pages = 0;
  do {
    const page = await client.listEntities({ ...query, ...(continuation === undefined ? { count: true } : { continuation }) });
    if (pages === 0) count = page.count;
    expect(page.entities.length).toBeLessThanOrEqual(query.pageSize ?? 100);
    ids.push(...page.entities.map((entity) => entity.id));
    continuation = page.continuation;
    pages++;
  } while (continuation !== undefined && pages < 10_000);
  return { ids, count };
}

async function allInstances(client: DurableClient, query: InstanceQuery): Promise<string[]> {
  const ids: string[] = [];
  let continuation = query.continuation;
  let pages = 0;
  do {
    const page = await client.list({ ...query, ...(continuation === undefined ? {} : { continuation }) });
    expect(page.instances.length).toBeLessThanOrEqual(query.pageSize ?? 100);
    ids.push(...page.instances.map((status) => status.instanceId));
    continuation = page.continuation;
    pages++;
  } while (continuation !== undefined && pages < 10_000);
  return ids;
}

async function allFailures(client: DurableClient, query: { limit?: number; entityType?: string }): Promise<FailedSignal[]> {
  const failures: FailedSignal[] = [];
  let before: number | undefined;
  let pages = 0;
  do {
    const page = await client.failures({ ...query, ...(before === undefined ? {} : { before }) });
    failures.push(...page.failures);
    before = page.next;
    pages++;
  } while (before !== undefined && pages < 10_000);
  return failures;
}

async function httpInstances(node: ClusterNode, query: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const response = await fetch(`${node.url}${API}/instances?${query}`, { headers: token === undefined ? {} : { "x-ms-continuation-token": token } });
    expect(response.status).toBe(200);
    ids.push(...((await response.json()) as Array<{ instanceId: string }>).map((status) => status.instanceId));
    token = response.headers.get("x-ms-continuation-token") ?? undefined;
  } while (token !== undefined);
  return ids;
}
