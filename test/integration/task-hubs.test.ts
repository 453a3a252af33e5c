import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode, type DurableClient } from "../../clients/index.js";
import type { HelloSequence } from "../../src/demo/orchestrations/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { killAndWait, startServerProcess } from "./support/server-process.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("task hubs (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function client(url: string, hub?: string): Promise<DurableClient> {
    const opened = await connect(url, { connectTimeoutMs: 5_000, ...(hub === undefined ? {} : { hub }) });
    cleanups.push(() => opened.close());
    return opened;
  }

  it("two hubs on one server hold different state for the same entity id and the same instance id, and keep it across a restart", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    let server = await startTestServer(transport, { dataDir: dir.path });
    const own = await client(server.url);
    const other = await client(server.url, "OrdersV2");
    await own.signal("Counter/shared", "add", 1);
    await other.signal("Counter/shared", "add", 40);
    await other.signal("Counter/shared", "add", 2);
    expect(await own.call("Counter/shared", "get")).toBe(1);
    expect(await other.call("Counter/shared", "get")).toBe(42);

    await own.start<typeof HelloSequence>("HelloSequence", undefined, { instanceId: "same-id" });
    expect((await own.waitForCompletion("same-id")).runtimeStatus).toBe("Completed");
    expect(await other.status("same-id")).toBeNull(); // not in that hub
    await other.start<typeof HelloSequence>("HelloSequence", undefined, { instanceId: "same-id" });
    expect((await other.waitForCompletion("same-id")).runtimeStatus).toBe("Completed");
    expect(server.hubs.list().map((hub) => hub.name).sort()).toEqual(["default", "ordersv2"]);

    await own.close();
    await other.close();
    await server.close();
    server = await startTestServer(transport, { dataDir: dir.path });
    cleanups.push(() => server.close());
    expect(await (await client(server.url)).call("Counter/shared", "get")).toBe(1);
    expect(await (await client(server.url, "ordersv2")).call("Counter/shared", "get")).toBe(42); // names ignore case
    expect((await (await client(server.url, "ORDERSV2")).status("same-id"))?.runtimeStatus).toBe("Completed");
  });

  it("a server whose own hub is not `default` serves it to clients that name none", async () => {
    const server = await startTestServer(transport, { hub: "Blue" });
    cleanups.push(server.stop);
    await (await client(server.url)).signal("Counter/c", "add", 5);
    expect(await (await client(server.url, "blue")).call("Counter/c", "get")).toBe(5);
    expect(await (await client(server.url, "default")).call("Counter/c", "get")).toBe(0);
  });

  it("refuses more hubs than --max-hubs allows, and bad hub names, with coded errors", async () => {
    const server = await startTestServer(transport, { maxHubs: 2 });
    cleanups.push(server.stop);
    await client(server.url, "second");
    await expect(connect(server.url, { hub: "third", connectTimeoutMs: 2_000 })).rejects.toMatchObject({ code: ErrorCode.hub_unavailable, message: expect.stringContaining("--max-hubs") });
    await expect(client(server.url, "second")).resolves.toBeDefined(); // an open hub is still served
    await expect(connect(server.url, { hub: "no spaces" })).rejects.toThrow(/hub must be 3 to 45 letters and digits/);

    const socket = await RawSocket.open(server.port);
    cleanups.push(() => socket.close());
    socket.send({ type: "hello", version: 1, hub: "9lives" });
    const error = await socket.waitFor((frame) => frame.type === "error");
    expect(error).toMatchObject({ type: "error", code: ErrorCode.bad_request, message: expect.stringContaining("hub") });
  });
});

describe("two servers on one data directory", () => {
  it("serve different hubs side by side (two versions of an app), and neither can open the other's", async () => {
    const dir = tempDataDir();
    const first = await startServerProcess(["--data", dir.path, "--port", "0"]);
    const second = await startServerProcess(["--data", dir.path, "--port", "0", "--hub", "version2"]);
    try {
      const a = await connect(first.url);
      const b = await connect(second.url);
      await a.signal("Counter/x", "add", 1);
      await b.signal("Counter/x", "add", 2);
      expect(await a.call("Counter/x", "get")).toBe(1);
      expect(await b.call("Counter/x", "get")).toBe(2);
      await a.close();
      await b.close();
      await expect(connect(first.url, { hub: "version2", connectTimeoutMs: 2_000 })).rejects.toMatchObject({ code: ErrorCode.hub_unavailable, message: expect.stringContaining("another server") });
      await expect(connect(second.url, { hub: "default", connectTimeoutMs: 2_000 })).rejects.toMatchObject({ code: ErrorCode.hub_unavailable });
    } finally {
      await killAndWait(first.child, "SIGTERM");
      await killAndWait(second.child, "SIGTERM");
      dir.cleanup();
    }
  });
});
