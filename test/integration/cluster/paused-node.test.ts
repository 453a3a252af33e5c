import { readFileSync } from "node:fs";
import { open as openLmdb } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, type NatsConnection } from "nats";
import { connect, type DurableClient } from "../../../clients/index.js";
import { leaseBucketAddress } from "../../../src/cluster/lease-names.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { freePort } from "../support/test-server.js";
import { entityHistory, TestCluster, type ClusterNode } from "./cluster-nodes.js";

const PARTITIONS = 16;
const LEASE_MS = 1_500;
const COUNTERS_PER_PARTITION = 3;
/** Most signals the paused side's client keeps unanswered (while its node is stopped they pile up in its socket). */
const MAX_OUTSTANDING = 100;

/** Signals sent to counters, with what became of each: acknowledged, refused (with the error's code), or not answered yet. */
class SignalTally {
  readonly sent = new Map<string, number>();
  readonly acked = new Map<string, number>();
  readonly refused = new Map<string, number>();
  readonly errors = new Map<string, number>();
  /** Per counter, the numbers of the signals sent to it (this client's n-th request is its n-th signal: it sends nothing else before the checks). */
  readonly numbers = new Map<string, number[]>();
  private count = 0;
  private readonly pending = new Set<Promise<void>>();

  send(client: DurableClient, id: string): Promise<void> {
    bump(this.sent, id);
    this.numbers.set(id, [...(this.numbers.get(id) ?? []), ++this.count]);
    const signal: Promise<void> = client.signal(id, "add", 1).then(
      () => bump(this.acked, id),
      (error: unknown) => {
        bump(this.refused, id);
        bump(this.errors, String((error as { code?: string }).code ?? error));
      },
    );
    const tracked = signal.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  total(map: Map<string, number>): number {
    return [...map.values()].reduce((sum, count) => sum + count, 0);
  }

  /** Waits until every signal sent has an answer; throws (saying how many are left) after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`${this.pending.size} signals still unanswered after ${timeoutMs} ms`);
      await delay(50);
    }
  }
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `perPartition` counter ids in each of `partitions`. */
function countersIn(partitions: readonly number[], perPartition: number): string[] {
  const wanted = new Map(partitions.map((partition) => [partition, [] as string[]]));
  for (let i = 0; [...wanted.values()].some((ids) => ids.length < perPartition); i++) {
    const id = `Counter/paused-${i}`;
    const ids = wanted.get(partitionOf(id, PARTITIONS));
    if (ids && ids.length < perPartition) ids.push(id);
  }
  return [...wanted.values()].flat();
}

/** A lease as the KV bucket held it from `atMs` (server time) on. */
interface LeaseRecord {
  readonly node: string | null;
  readonly epoch: number;
  readonly atMs: number;
}

/** Records every change of every partition lease (a KV watch), with the server's time of each write. */
async function watchLeases(connection: NatsConnection): Promise<{ timeline: Map<number, LeaseRecord[]>; stop(): void }> {
  const { bucket } = leaseBucketAddress("default");
  const kv = await connection.jetstream().views.kv(bucket, { bindOnly: true });
  const watch = await kv.watch({ key: "p.*" });
  const timeline = new Map<number, LeaseRecord[]>();
  void (async () => {
    for await (const entry of watch) {
      if (entry.operation !== "PUT") continue;
      const partition = Number(entry.key.slice(2));
      const value = entry.json<{ node: string | null; epoch: number }>();
      const records = timeline.get(partition) ?? [];
      const last = records.at(-1);
      // Renewals repeat the owner: only changes of owner (or epoch) are kept.
      if (!last || last.node !== value.node || last.epoch !== value.epoch) records.push({ node: value.node, epoch: value.epoch, atMs: entry.created.getTime() });
      timeline.set(partition, records);
    }
  })();
  return { timeline, stop: () => watch.stop() };
}

/** Every entry of a partition's log written at or after `sinceMs` (server time): who wrote it (its batch id's node) and when. */
async function logEntriesSince(connection: NatsConnection, partition: number, sinceMs: number): Promise<Array<{ sequence: number; node: string; batchId: string; atMs: number }>> {
  const { stream } = partitionLogAddress("default", partition);
  const jsm = await connection.jetstreamManager();
  const { first_seq: first, last_seq: last } = (await jsm.streams.info(stream)).state;
  const entries: Array<{ sequence: number; node: string; batchId: string; atMs: number }> = [];
  for (let sequence = last; sequence >= Math.max(1, first); sequence--) {
    const message = await jsm.streams.getMessage(stream, { seq: sequence });
    const atMs = Date.parse(message.timestamp.replace(/(\.\d{3})\d*/, "$1"));
    if (atMs < sinceMs) break;
    const batchId = message.header.get("Nats-Msg-Id");
    entries.push({ sequence, node: batchId.split(".")[0]!, batchId, atMs });
  }
  return entries.reverse();
}

/** The lease holder at `atMs`: the last record written at or before it (undefined before the first one seen). */
function holderAt(records: readonly LeaseRecord[], atMs: number): LeaseRecord | undefined {
  let holder: LeaseRecord | undefined;
  for (const record of records) if (record.atMs <= atMs) holder = record;
  return holder;
}

describe("a node paused past its lease", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("a node paused (SIGSTOP) past its lease and then resumed writes nothing for the partitions it lost", { timeout: 300_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const cluster = new TestCluster(nats.urls, LEASE_MS);
    cleanups.push(() => cluster.stop());
    // Logging at info: on a failure, the nodes' accounts of taking, losing and handing over partitions are part of the evidence.
    for (const name of ["n0", "n1", "n2"]) await cluster.startAt(name, await freePort(), ["--log-level", "info"]);
    const spread = await cluster.untilSpread(PARTITIONS, 4);
    const [first, second, victim] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    cleanups.push(() => void (victim.child.exitCode === null && victim.child.signalCode === null && victim.child.kill("SIGCONT")));

    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const leases = await watchLeases(observer);
    cleanups.push(() => leases.stop());
    const watchedFromMs = Date.now();
    const events: string[] = [];
    const mark = (what: string) => void events.push(`${what}@${Date.now() - watchedFromMs}`);

    // Counters in the victim's partitions: half of the partitions get writes from the other side while it is stopped, half only reads.
    const victimPartitions = [...spread.get(victim.name)!].sort((a, b) => a - b);
    const written = victimPartitions.filter((_, i) => i % 2 === 0);
    const readOnly = victimPartitions.filter((_, i) => i % 2 === 1);
    const writtenCounters = countersIn(written, COUNTERS_PER_PARTITION);
    const readOnlyCounters = countersIn(readOnly, COUNTERS_PER_PARTITION);
    const counters = [...writtenCounters, ...readOnlyCounters];

    /** Every counter's value, read through the other side (a read that fails says when, and who served what then). */
    const readAll = (when: string) =>
      Promise.all(
        counters.map((id) =>
          otherSide.call<number>(id, "get").catch(async (error: unknown) => {
            const failedAt = Date.now() - watchedFromMs;
            const served = await Promise.all(cluster.nodes.map(async (node) => `${node.name}=${JSON.stringify(await cluster.partitionsOf(node))}`));
            throw new Error(`reading ${id} (partition ${partitionOf(id, PARTITIONS)}) ${when} failed at ${failedAt} ms: ${(error as Error).message}; served afterwards: ${served.join(" ")}; events ${events.join(" ")}; lease changes ${JSON.stringify(leases.timeline.get(partitionOf(id, PARTITIONS))?.map((r) => `${r.node}#${r.epoch}@${r.atMs - watchedFromMs}`))}`);
          }),
        ),
      );

    // The paused side's client knows only the node to be paused; the other side's knows only the others.
    const pausedSide = await connect(victim.url, { clientId: "paused-side", disconnectTimeoutMs: 180_000 });
    cleanups.push(() => pausedSide.close());
    const otherSide = await connect([first.url, second.url], { clientId: "other-side", disconnectTimeoutMs: 180_000 });
    cleanups.push(() => otherSide.close());
    const a = new SignalTally();
    const b = new SignalTally();

    // Continuous load on the victim: a signal every few ms, without waiting for answers (up to MAX_OUTSTANDING unanswered).
    let sending = true;
    let next = 0;
    const load = (async () => {
      while (sending) {
        if (a.outstanding < MAX_OUTSTANDING) void a.send(pausedSide, counters[next++ % counters.length]!);
        await delay(5);
      }
    })();
    while (a.total(a.acked) < 150) await delay(20);

    victim.child.kill("SIGSTOP");
    mark("stopped");
    // The others take every partition over once the victim's leases lapse.
    await cluster.untilServedBy([first.name, second.name], PARTITIONS, 90_000);
    mark("taken over");
    const ackedBeforeResume = new Map(a.acked);
    const sentBeforeResume = new Map(a.sent);
    expect(a.outstanding, "signals of the paused side stuck in the stopped node").toBeGreaterThan(0);

    // The other side writes half of the counters and reads them all: every write acknowledged before the pause is there.
    await Promise.all(writtenCounters.flatMap((id) => [b.send(otherSide, id), b.send(otherSide, id)]));
    await b.settled(60_000);
    expect(b.total(b.refused), `other side's signals refused: ${JSON.stringify(Object.fromEntries(b.errors))}`).toBe(0);
    const duringPause = await readAll("while the victim is stopped");
    for (const [i, id] of counters.entries()) {
      expect(duringPause[i], `${id} read while the victim is stopped`).toBeGreaterThanOrEqual((ackedBeforeResume.get(id) ?? 0) + (b.acked.get(id) ?? 0));
      expect(duringPause[i], `${id} read while the victim is stopped`).toBeLessThanOrEqual((sentBeforeResume.get(id) ?? 0) + (b.acked.get(id) ?? 0));
    }

    // Resume it with what piled up in it (nothing new is sent): every signal of the paused side gets an answer.
    sending = false;
    await load;
    victim.child.kill("SIGCONT");
    mark("resumed");
    await a.settled(120_000);

    // Right after: every acknowledged signal is visible through the other side, and nothing unacknowledged was applied.
    const expected = () => counters.map((id) => (a.acked.get(id) ?? 0) + (b.acked.get(id) ?? 0));
    /** Evidence for a report when values are wrong: who serves what, the logs' account of each wrong counter, what reads say a little later. */
    const explain = async (values: number[], when: string) => {
      const wrong = counters.filter((id, i) => values[i] !== expected()[i]);
      if (wrong.length === 0) return;
      const served = await Promise.all(cluster.nodes.map(async (node) => `${node.name}=${JSON.stringify(await cluster.partitionsOf(node))}`));
      const histories = await Promise.all(wrong.map((id) => entityHistory(observer, id, watchedFromMs)));
      // What the victim's store holds for them (read-only, beside the running node): its applied log position and the records.
      let stored: string[];
      try {
        const cmdline = readFileSync(`/proc/${victim.child.pid}/cmdline`, "utf8").split("\0");
        const env = openLmdb({ path: cmdline[cmdline.indexOf("--data") + 1]!, encoding: "string", noSubdir: false, readOnly: true });
        const meta = env.openDB<string, string>({ name: "meta", encoding: "string" });
        const db = env.openDB<string, (string | number)[]>({ name: "partitions", encoding: "string" });
        stored = wrong.map((id) => `${id}: applied ${meta.get(`applied.${partitionOf(id, PARTITIONS)}`)} record ${db.get([partitionOf(id, PARTITIONS), "e", id])}`);
        await env.close();
      } catch (error) {
        stored = [`not readable: ${String(error)}`];
      }
      await delay(5_000);
      const later = await Promise.all(wrong.map((id) => otherSide.call<number>(id, "get").catch((error: unknown) => `failed: ${(error as Error).message}`)));
      const servedLater = await Promise.all(cluster.nodes.map(async (node) => `${node.name}=${JSON.stringify(await cluster.partitionsOf(node))}`));
      console.log(
        [
          `WRONG ${when} at ${Date.now() - watchedFromMs}: [id, read, expected, acked to paused side, acked to other side, read 5 s later] ${JSON.stringify(wrong.map((id) => [id, values[counters.indexOf(id)], expected()[counters.indexOf(id)], a.acked.get(id), b.acked.get(id), later[wrong.indexOf(id)]]))}`,
          `served then: ${served.join(" ")}; 5 s later: ${servedLater.join(" ")}`,
          ...histories,
          ...stored.map((line) => `victim's store: ${line}`),
          ...wrong.map((id) => `${id}: paused side sent signals number ${JSON.stringify(a.numbers.get(id))}`),
          `events ${events.join(" ")}`,
          ...cluster.nodes.map((node) => `${node.name} stderr: ${node.stderr().slice(-12_000)}`),
          `lease changes ${JSON.stringify([...new Set(wrong.map((id) => partitionOf(id, PARTITIONS)))].map((partition) => [partition, leases.timeline.get(partition)?.map((r) => `${r.node}#${r.epoch}@${r.atMs - watchedFromMs}`)]))}`,
        ].join("\n"),
      );
    };
    const afterResume = await readAll("right after the resume");
    await explain(afterResume, "right after the resume");
    const report = () => `paused side: sent ${a.total(a.sent)}, acked ${a.total(a.acked)}, refused ${a.total(a.refused)} ${JSON.stringify(Object.fromEntries(a.errors))}; counters in partitions written meanwhile: ${writtenCounters.length}, only read: ${readOnlyCounters.length}`;
    expect.soft(Object.fromEntries(counters.map((id, i) => [id, afterResume[i]])), `values read right after the resume (${report()})`).toEqual(Object.fromEntries(counters.map((id, i) => [id, expected()[i]])));

    // A few more seconds of work on both sides (the victim forwards now), then everything again.
    mark("settled after resume");
    sending = true;
    const more = (async () => {
      while (sending) {
        if (a.outstanding < MAX_OUTSTANDING) void a.send(pausedSide, counters[next++ % counters.length]!);
        void b.send(otherSide, counters[next % counters.length]!);
        await delay(20);
      }
    })();
    await delay(4_000);
    sending = false;
    await more;
    await a.settled(120_000);
    await b.settled(120_000);
    mark("more settled");
    const settledOwnership = await cluster.untilSpread(PARTITIONS, 0, 90_000);
    const final = await readAll("at the end");
    await explain(final, "at the end");
    expect.soft(Object.fromEntries(counters.map((id, i) => [id, final[i]])), `values at the end (${report()})`).toEqual(Object.fromEntries(counters.map((id, i) => [id, expected()[i]])));
    expect.soft(b.total(b.refused), `other side's signals refused: ${JSON.stringify(Object.fromEntries(b.errors))}`).toBe(0);

    // The resumed node does not exit: it notices that its leases lapsed, rejoins, and takes a share of the partitions again, by new leases.
    // (Exiting cleanly would do too; dying of a signal or with an error would not.)
    const exited = victim.child.exitCode !== null || victim.child.signalCode !== null;
    console.log(exited ? `the resumed node exited (code ${victim.child.exitCode}, signal ${victim.child.signalCode})` : `the resumed node is running and serves partitions ${JSON.stringify(settledOwnership.get(victim.name))}`);
    if (exited) expect({ exitCode: victim.child.exitCode, signal: victim.child.signalCode, stderr: victim.stderr().slice(-2_000) }).toMatchObject({ exitCode: 0, signal: null });

    // Each node serves only partitions whose lease names it (checked again while a hand-over is under way; a node serving a partition it lost would stay).
    const kv = await observer.jetstream().views.kv(leaseBucketAddress("default").bucket, { bindOnly: true });
    const disagreements = async (): Promise<string[]> => {
      const found: string[] = [];
      for (const node of cluster.nodes) {
        for (const partition of (await cluster.partitionsOf(node)) ?? []) {
          const lease = (await kv.get(`p.${partition}`))?.json<{ node: string | null; epoch: number }>();
          if (lease?.node !== node.name) found.push(`${node.name} serves partition ${partition}, whose lease is ${JSON.stringify(lease)}`);
        }
      }
      return found;
    };
    let disagreeing = await disagreements();
    for (const deadline = Date.now() + 30_000; disagreeing.length > 0 && Date.now() < deadline; disagreeing = await disagreements()) await delay(500);
    expect.soft(disagreeing).toEqual([]);

    // The logs: since the watch began, every entry of the victim's partitions was written by the node that held the lease then.
    // (A node that lost a partition and appends to its log anyway is what fencing must refuse.)
    const writesWithoutLease: string[] = [];
    let checked = 0;
    for (const partition of victimPartitions) {
      const records = leases.timeline.get(partition) ?? [];
      for (const entry of await logEntriesSince(observer, partition, watchedFromMs)) {
        checked++;
        // Server times are in milliseconds: a lease change in the same millisecond as the entry may have come before or after it.
        const holder = holderAt(records, entry.atMs);
        if (holder === undefined || holder.node === entry.node || holderAt(records, entry.atMs - 1)?.node === entry.node) continue;
        writesWithoutLease.push(`partition ${partition} seq ${entry.sequence} by ${entry.node} (${entry.batchId}) at ${new Date(entry.atMs).toISOString()}, when ${holder.node} held the lease (epoch ${holder.epoch}, since ${new Date(holder.atMs).toISOString()})`);
      }
    }
    console.log(`${report()}; other side: acked ${b.total(b.acked)}, refused ${b.total(b.refused)}; log entries checked ${checked}; served at the end ${JSON.stringify(Object.fromEntries(settledOwnership))}`);
    expect(checked).toBeGreaterThan(0);
    expect.soft(writesWithoutLease, `lease changes: ${JSON.stringify(Object.fromEntries([...leases.timeline].filter(([p]) => victimPartitions.includes(p))))}`).toEqual([]);
  });
});
