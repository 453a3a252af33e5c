import type { NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToNats, isLogFencedError, LogFencedError, PartitionLog, type LogEntry } from "../../../src/cluster/index.js";
import { startNatsCluster, startNatsServer, type NatsServers } from "../../support/nats-servers.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function readAll(log: PartitionLog, fromSequence = 1): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read(fromSequence)) entries.push(entry);
  return entries;
}

/** Each test gets a partition of its own, so that they share one server without sharing a log. */
let nextPartition = 0;

describe("partition log on one nats-server", () => {
  let servers: NatsServers;
  let connection: NatsConnection;

  beforeAll(async () => {
    servers = await startNatsServer();
    connection = await connectToNats(servers.urls, "partition-log-test");
  });
  afterAll(async () => {
    await connection?.close();
    await servers?.stop();
  });

  const openLog = () => PartitionLog.open(connection, { hub: "orders", partition: nextPartition });

  it("appends batches and reads them back in order, from any sequence", async () => {
    nextPartition++;
    const log = await openLog();
    expect(await log.lastEntry()).toBeUndefined();
    for (let index = 1; index <= 5; index++) {
      const ack = await log.append(encoder.encode(`batch ${index}`), `b${index}`);
      expect(ack).toEqual({ sequence: index, duplicate: false });
    }
    const entries = await readAll(log);
    expect(entries.map((entry) => [entry.sequence, entry.batchId, decoder.decode(entry.data)])).toEqual([
      [1, "b1", "batch 1"],
      [2, "b2", "batch 2"],
      [3, "b3", "batch 3"],
      [4, "b4", "batch 4"],
      [5, "b5", "batch 5"],
    ]);
    expect((await readAll(log, 4)).map((entry) => entry.batchId)).toEqual(["b4", "b5"]);
    expect(await readAll(log, 6)).toEqual([]);
    expect((await log.lastEntry())?.batchId).toBe("b5");
  });

  it("does not append a retried batch id twice", async () => {
    nextPartition++;
    const log = await openLog();
    await log.append(encoder.encode("one"), "b1");
    await log.append(encoder.encode("two"), "b2");
    expect(await log.append(encoder.encode("one"), "b1")).toEqual({ sequence: 1, duplicate: true });
    expect(await log.append(encoder.encode("two"), "b2")).toEqual({ sequence: 2, duplicate: true });
    expect(await log.append(encoder.encode("three"), "b3")).toEqual({ sequence: 3, duplicate: false });
    expect((await readAll(log)).map((entry) => entry.batchId)).toEqual(["b1", "b2", "b3"]);
  });

  it("fences out a writer once a new owner has appended", async () => {
    nextPartition++;
    const writerA = await openLog();
    await writerA.append(encoder.encode("a1"), "a1");
    await writerA.append(encoder.encode("a2"), "a2");

    const writerB = await openLog();
    expect((await writerB.lastEntry())?.batchId).toBe("a2");
    expect(await writerB.append(encoder.encode("b1"), "b1")).toEqual({ sequence: 3, duplicate: false });

    const refused = await writerA.append(encoder.encode("a3"), "a3").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LogFencedError);
    expect(isLogFencedError(refused)).toBe(true);
    expect((refused as LogFencedError).actualLastBatchId).toBe("b1");
    // Once fenced, always fenced: a later batch of the old owner is refused too.
    await expect(writerA.append(encoder.encode("a4"), "a4")).rejects.toBeInstanceOf(LogFencedError);

    await writerB.append(encoder.encode("b2"), "b2");
    expect((await readAll(writerB)).map((entry) => entry.batchId)).toEqual(["a1", "a2", "b1", "b2"]);
  });

  it("fences the slower of two writers that opened an empty log", async () => {
    nextPartition++;
    const writerA = await openLog();
    const writerB = await openLog();
    await writerA.append(encoder.encode("a1"), "a1");
    await expect(writerB.append(encoder.encode("b1"), "b1")).rejects.toBeInstanceOf(LogFencedError);
    expect((await readAll(writerA)).map((entry) => entry.batchId)).toEqual(["a1"]);
  });

  it("completes many appends in flight, in call order", async () => {
    nextPartition++;
    const log = await openLog();
    const ids = Array.from({ length: 64 }, (_, index) => `b${index + 1}`);
    const acks = await Promise.all(ids.map((id) => log.append(encoder.encode(id), id)));
    expect(acks.map((ack) => ack.sequence)).toEqual(ids.map((_, index) => index + 1));
    expect((await readAll(log)).map((entry) => entry.batchId)).toEqual(ids);
  });

  it("refuses every in-flight append of a writer that a new owner fenced out", async () => {
    nextPartition++;
    const writerA = await openLog();
    await writerA.append(encoder.encode("a0"), "a0");
    const writerB = await openLog();
    await writerB.append(encoder.encode("b1"), "b1");
    const inFlight = Array.from({ length: 8 }, (_, index) => writerA.append(encoder.encode("a"), `a${index + 1}`));
    const outcomes = await Promise.allSettled(inFlight);
    expect(outcomes.every((outcome) => outcome.status === "rejected" && isLogFencedError(outcome.reason))).toBe(true);
    expect((await readAll(writerB)).map((entry) => entry.batchId)).toEqual(["a0", "b1"]);
  });
});

describe("partition log on a three-server cluster, three replicas", () => {
  let servers: NatsServers;
  let connection: NatsConnection;

  beforeAll(async () => {
    servers = await startNatsCluster(3);
    connection = await connectToNats(servers.urls, "partition-log-cluster-test");
  });
  afterAll(async () => {
    await connection?.close();
    await servers?.stop();
  });

  it("keeps appending and loses nothing acknowledged when the stream leader's server is SIGKILLed", async () => {
    const log = await PartitionLog.open(connection, { hub: "orders", partition: 1, replicas: 3 });
    const acknowledged = new Map<number, string>();
    const appendRange = async (from: number, to: number) => {
      const appends: Promise<void>[] = [];
      for (let index = from; index < to; index++) {
        const id = `b${index}`;
        appends.push(log.append(encoder.encode(id), id).then((ack) => void acknowledged.set(ack.sequence, id)));
        // Up to 16 in flight, as a node keeping several ticks in flight would.
        if (appends.length === 16) await Promise.all(appends.splice(0));
      }
      await Promise.all(appends);
    };
    await appendRange(0, 100);

    const jsm = await connection.jetstreamManager();
    const leader = (await jsm.streams.info(log.address.stream)).cluster?.leader;
    const leaderIndex = Number(/^n(\d+)$/.exec(leader ?? "")?.[1]);
    expect(leaderIndex).toBeGreaterThanOrEqual(0);
    // Appends in flight while the server dies are retried with the same batch id: no loss, no copies.
    const duringKill = appendRange(100, 150);
    await servers.kill(leaderIndex);
    await duringKill;
    await appendRange(150, 200);

    const entries = await readAll(log);
    expect(entries.map((entry) => entry.batchId)).toEqual(Array.from({ length: 200 }, (_, index) => `b${index}`));
    for (const [sequence, id] of acknowledged) expect(entries[sequence - 1]?.batchId).toBe(id);
    expect(acknowledged.size).toBe(200);
  });
});
