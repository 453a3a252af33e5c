import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type LiveStateInfo } from "../../clients/index.js";
import * as liveApp from "../fixtures/live-app.js";
import type { BoardState } from "../fixtures/live-app.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

describe.each(TRANSPORTS)("live state across a reconnect over %s", (transport) => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("resubscribes from its last version and gets the missed changes replayed as patches", async () => {
    const server = await startTestServer(transport, { app: liveApp });
    cleanups.push(() => server.stop());
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const watcher: DurableClient = await connect(proxy.url, { reconnect: { initialDelayMs: 200, maxDelayMs: 200 } });
    const driver = await connect(server.url);
    cleanups.push(() => watcher.close(), () => driver.close());

    const updates: LiveStateInfo[] = [];
    let latest: BoardState | null = null;
    const sub = watcher.subscribe<BoardState>("Board/replay", (state, info) => {
      updates.push(info);
      latest = state;
    });
    await sub.ready;
    for (let i = 0; i < 5; i++) await driver.call("Board/replay", "bump", i);
    await until(() => sub.version === 5);

    proxy.cut(); // the watcher's connection drops; it reconnects after 200 ms
    for (let i = 5; i < 10; i++) await driver.call("Board/replay", "bump", i);
    await until(() => sub.version === 10);

    const afterCut = updates.slice(updates.findIndex((u) => u.version === 5) + 1);
    expect(afterCut.map((u) => u.version)).toEqual([6, 7, 8, 9, 10]);
    expect(afterCut.every((u) => u.kind === "patch")).toBe(true); // replayed from the server's ring, no snapshot
    expect(latest).toEqual(await driver.get("Board/replay"));
  });

  it("frees the server's subscription state when the last listener closes or the connection goes", async () => {
    const server = await startTestServer(transport, { app: liveApp });
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    const other = await connect(server.url);
    cleanups.push(() => client.close());
    const subs = Array.from({ length: 20 }, (_, i) => client.subscribe(`Board/s${i}`, () => {}));
    await Promise.all(subs.map((s) => s.ready));
    const shared = [other.subscribe("Board/s0", () => {}), other.subscribe("Board/s0", () => {})];
    await Promise.all(shared.map((s) => s.ready));
    expect(server.liveState.stats().subscriptions).toBe(21);

    await Promise.all(subs.map((s) => s.close()));
    await until(() => server.liveState.stats().subscriptions === 1);
    await shared[0]!.close();
    expect(server.liveState.stats().subscriptions).toBe(1); // one listener of that entity is still there
    await other.close();
    await until(() => server.liveState.stats().subscriptions === 0);
  });

  it("refuses subscriptions past the per-connection limit with overloaded", async () => {
    const server = await startTestServer(transport, { app: liveApp, liveState: { maxSubscriptionsPerConnection: 5 } });
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    cleanups.push(() => client.close());
    const subs = Array.from({ length: 5 }, (_, i) => client.subscribe(`Board/cap${i}`, () => {}));
    await Promise.all(subs.map((s) => s.ready));
    await expect(client.subscribe("Board/cap5", () => {}).ready).rejects.toMatchObject({ code: "overloaded" });
    await subs[0]!.close();
    await until(() => server.liveState.stats().subscriptions === 4);
    await client.subscribe("Board/cap5", () => {}).ready;
  });
});
