import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import * as liveApp from "../fixtures/live-app.js";
import type { BoardState } from "../fixtures/live-app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

type Server = Awaited<ReturnType<typeof startTestServer>>;

describe.each(TRANSPORTS)("live state over %s", (transport) => {
  let server: Server | undefined;
  const clients: DurableClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await server?.stop();
    server = undefined;
  });

  it("1,000 subscribers of one entity each see all 200 updates, in order, and end at the server's state", async () => {
    server = await startTestServer(transport, { app: liveApp });
    const SUBSCRIBERS = 1000;
    const UPDATES = 200;
    const seen: Array<{ versions: number[]; state: BoardState | null }> = [];
    for (let batch = 0; batch < SUBSCRIBERS; batch += 100) {
      const connected = await Promise.all(Array.from({ length: 100 }, () => connect(server!.url)));
      clients.push(...connected);
      await Promise.all(
        connected.map((client) => {
          const record = { versions: [] as number[], state: null as BoardState | null };
          seen.push(record);
          return client.subscribe<BoardState>("Board/shared", (state, info) => {
            record.versions.push(info.version);
            record.state = state;
          }).ready;
        }),
      );
    }
    const driver = await connect(server.url);
    clients.push(driver);
    for (let i = 0; i < UPDATES; i++) await driver.call("Board/shared", "bump", i);
    const final = await driver.getWithVersion<BoardState>("Board/shared");
    const finalVersion = final.version;
    expect(finalVersion).toBe(UPDATES);
    await until(() => seen.every((s) => s.versions.at(-1) === finalVersion));
    for (const subscriber of seen) {
      const first = subscriber.versions[0]!;
      expect(subscriber.versions).toEqual(Array.from({ length: finalVersion - first + 1 }, (_, i) => first + i));
      expect(subscriber.state).toEqual(final.state);
    }
  });

  it("delivers null for an entity that does not exist, then its first state", async () => {
    server = await startTestServer(transport, { app: liveApp });
    const client = await connect(server.url);
    clients.push(client);
    const states: Array<[unknown, number]> = [];
    const sub = client.subscribe("Board/new", (state, info) => states.push([state, info.version]));
    expect(await sub.ready).toEqual({ state: null, version: 0 });
    await client.call("Board/new", "bump", 1);
    await until(() => states.length >= 2);
    expect(states[1]![1]).toBe(1);
    expect((states[1]![0] as BoardState).total).toBe(1);
  });

  it("delivers a deletion as null with the next version, and a re-created entity after it", async () => {
    server = await startTestServer(transport);
    const client = await connect(server.url);
    clients.push(client);
    const states: Array<[unknown, number]> = [];
    const sub = client.subscribe("Counter/deleted", (state, info) => states.push([state, info.version]));
    await sub.ready;
    await client.call("Counter/deleted", "add", 2);
    await client.call("Counter/deleted", "delete");
    await client.call("Counter/deleted", "add", 5);
    await until(() => states.length >= 4);
    expect(states).toEqual([
      [null, 0],
      [2, 1],
      [null, 2],
      [5, 3],
    ]);
  });

  it("skips a subscriber that stops reading, keeps its buffer bounded, serves the others, and resyncs it with one snapshot", async () => {
    const SOFT = 64 * 1024;
    const UPDATE_BYTES = 40 * 1024;
    server = await startTestServer(transport, { app: liveApp, liveState: { softBufferBytes: SOFT, hardBufferBytes: 64 * 1024 * 1024 } });
    const slow = await RawSocket.greeted(server.port);
    slow.send({ type: "subscribe", id: 1, entity: "Board/firehose" });
    await slow.waitFor((f) => f.type === "snapshot" && f.id === 1);
    slow.socket.pause();

    const healthy = await connect(server.url);
    const driver = await connect(server.url);
    clients.push(healthy, driver);
    const healthyVersions: number[] = [];
    const sub = healthy.subscribe("Board/firehose", (_state, info) => healthyVersions.push(info.version));
    await sub.ready;

    let maxBuffered = 0;
    let sawStall = false;
    const UPDATES = 400; // 400 x 40 KiB = 16 MiB: far more than the kernel's socket buffers hold
    for (let i = 0; i < UPDATES; i++) {
      await driver.call("Board/firehose", "fill", UPDATE_BYTES);
      const stats = server.liveState.stats();
      maxBuffered = Math.max(maxBuffered, stats.maxBufferedBytes);
      sawStall ||= stats.stalled > 0;
    }
    const final = await driver.getWithVersion<BoardState>("Board/firehose");
    expect(sawStall).toBe(true);
    expect(maxBuffered).toBeLessThanOrEqual(SOFT + 2 * (UPDATE_BYTES + 1024));

    await until(() => healthyVersions.at(-1) === final.version);
    expect(healthyVersions).toEqual(Array.from({ length: final.version - healthyVersions[0]! + 1 }, (_, i) => healthyVersions[0]! + i));

    slow.socket.resume();
    const resync = await slow.waitFor((f) => f.type === "snapshot" && f.version === final.version, 30_000);
    expect(resync.state).toEqual(final.state);
    const received = slow.frames.filter((f) => f.type === "patch" || f.type === "snapshot").length;
    expect(received).toBeLessThan(UPDATES); // intermediate updates were skipped, not queued
    expect(slow.closeCode).toBeUndefined();
    slow.close();
  });

  it("answers every subscribe: one replaced or cancelled before its snapshot is read gets ack", async () => {
    server = await startTestServer(transport, { app: liveApp });
    const raw = await RawSocket.greeted(server.port);
    raw.send([
      { type: "subscribe", id: 1, entity: "Board/a" },
      { type: "unsubscribe", id: 2, entity: "Board/a" },
      { type: "subscribe", id: 3, entity: "Board/a" },
      { type: "subscribe", id: 4, entity: "Board/b" },
      { type: "subscribe", id: 5, entity: "Board/b" },
    ]);
    const acked = (await raw.waitFor((frame) => frame.type === "ack")).ids;
    const snapshots = await Promise.all([3, 5].map((id) => raw.waitFor((frame) => frame.id === id)));
    expect(acked).toEqual([1, 2, 4]);
    expect(snapshots.map((frame) => frame.type)).toEqual(["snapshot", "snapshot"]);
    expect(server.liveState.stats().subscriptions).toBe(2);
    raw.close();
  });

  it("closes a connection past the hard cap with 4008 (slow consumer)", async () => {
    // soft = hard: a subscriber over the limit is closed rather than stalled (a stalled one no longer grows its buffer)
    server = await startTestServer(transport, { app: liveApp, liveState: { softBufferBytes: 256 * 1024, hardBufferBytes: 256 * 1024 } });
    const driver = await connect(server.url);
    clients.push(driver);
    await driver.call("Board/huge", "fill", 1_000_000);
    const slow = await RawSocket.greeted(server.port);
    slow.send({ type: "subscribe", id: 1, entity: "Board/huge" });
    await slow.waitFor((frame) => frame.id === 1);
    slow.socket.pause();
    // each change is about 1 MB: once the kernel's buffers are full, the server's buffer passes the cap
    for (let i = 0; i < 60 && server.liveState.stats().subscriptions > 0; i++) await driver.call("Board/huge", "fill", 1_000_000);
    expect(server.liveState.stats().subscriptions).toBe(0);
    slow.socket.resume();
    expect(await slow.waitForClose(30_000)).toBe(4008);
    // the server still serves everyone else
    expect(await driver.call("Board/after", "bump", 1)).toBe(1);
  });
});
