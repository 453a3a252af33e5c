import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type LiveStateInfo, type WebSocketLike } from "../../clients/index.js";
import { openWebSocket } from "../../clients/web-socket.js";
import type { Counter, Stats, StatsState } from "../../src/demo/app.js";
import { defineEntity } from "../../src/runtime/index.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { freePort, startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** A real WebSocket whose incoming messages can be dropped, as if the server's answers were lost. */
class DeafSocket implements WebSocketLike {
  deaf = false;
  onopen: WebSocketLike["onopen"] = null;
  onmessage: WebSocketLike["onmessage"] = null;
  onclose: WebSocketLike["onclose"] = null;
  onerror: WebSocketLike["onerror"] = null;

  constructor(private readonly inner: WebSocketLike) {
    inner.onopen = (event) => this.onopen?.(event);
    inner.onmessage = (event) => this.deaf || this.onmessage?.(event);
    inner.onclose = (event) => this.onclose?.(event);
    inner.onerror = (event) => this.onerror?.(event);
  }

  get readyState(): number {
    return this.inner.readyState;
  }

  send(data: string): void {
    this.inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}

/** Resolves once `predicate` holds after a live-state callback. */
function waitFor<T>(register: (check: () => void) => void, predicate: () => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    const check = () => {
      const value = predicate();
      if (value !== undefined) resolve(value);
    };
    register(check);
    check();
  });
}

describe.each(TRANSPORTS)("the client against a real server over %s", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function server(options: { port?: number; dataDir?: string } = {}): Promise<TestServer> {
    const started = await startTestServer(transport, options);
    cleanups.push(() => started.stop());
    return started;
  }

  async function client(url: string, options: Parameters<typeof connect>[1] = {}): Promise<DurableClient> {
    const connected = await connect(url, { onError: () => {}, ...options });
    cleanups.push(() => connected.close());
    return connected;
  }

  it("signals, calls and reads, with server errors passed through", async () => {
    const { url } = await server();
    const c = await client(url);
    await c.signal("Counter/rt", "add", 5);
    expect(await c.call<number>("Counter/rt", "add", 2)).toBe(7);
    expect(await c.get("Counter/rt")).toBe(7);
    expect(await c.getWithVersion("Counter/rt")).toEqual({ state: 7, version: 2 });
    expect(await c.get("Counter/none")).toBeNull();
    await expect(c.call("Nope/x", "add", 1)).rejects.toMatchObject({ name: "EntityError", code: "unknown_entity" });
    await expect(c.call("Counter/rt", "add", "x")).rejects.toMatchObject({ code: "operation_failed" });
  });

  it("accepts the ws:// URL and calls through a typed proxy", async () => {
    const { port } = await server();
    const c = await client(`ws://127.0.0.1:${port}/ws`);
    const counter = c.entity<typeof Counter>("Counter/typed");
    await counter.signal.add(3);
    expect(await counter.call.add(4)).toBe(7);
    expect(await counter.get()).toBe(7);
    await counter.call.reset();
    expect(await counter.call.get()).toBe(0);
  });

  it("rejects connect() with the server's unsupported_version", async () => {
    const { url } = await server();
    const webSocket = async (target: string) => {
      const socket = await openWebSocket(target);
      const send = socket.send.bind(socket);
      socket.send = (data: string) => send(data.replace('"version":1', '"version":99'));
      return socket;
    };
    await expect(connect(url, { webSocket, onError: () => {} })).rejects.toMatchObject({ code: "unsupported_version" });
  });

  it("rejects connect() with disconnected when nothing listens", async () => {
    const port = await freePort();
    await expect(connect(`http://127.0.0.1:${port}`, { connectTimeoutMs: 300, onError: () => {} })).rejects.toMatchObject({ code: "disconnected" });
  });

  it("streams live state to shared subscriptions", async () => {
    const { url } = await server();
    const c = await client(url);
    const seen: Array<[StatsState | null, LiveStateInfo]> = [];
    const checks: Array<() => void> = [];
    const first = c.subscribe<StatsState>("Stats/live", (state, info) => {
      seen.push([state, info]);
      for (const check of checks) check();
    });
    const second = c.subscribe<StatsState>("Stats/live", () => {});
    expect(await first.ready).toEqual({ state: null, version: 0 });
    const stats = c.entity<typeof Stats>("Stats/live");
    for (const value of [3, 9, 6]) await stats.signal.record(value);
    const last = await waitFor((check) => checks.push(check), () => (first.version === 3 ? first.state : undefined));
    expect(last).toEqual({ count: 3, sum: 18, min: 3, max: 9, mean: 6 });
    expect(second.state).toEqual(last);
    expect(seen.map(([, info]) => info.version)).toEqual([0, 1, 2, 3]);
    expect(new Set(seen.map(([state]) => state)).size).toBe(4);
    await first.close();
    await second.close();
  });

  it("fails pending requests with disconnected after disconnectTimeoutMs, and queue_full beyond maxQueuedRequests", async () => {
    const s = await server();
    let dropped!: () => void;
    const drop = new Promise<void>((resolve) => (dropped = resolve));
    const onConnectionChange = (connected: boolean) => connected || dropped();
    const c = await client(s.url, { disconnectTimeoutMs: 500, maxQueuedRequests: 3, onConnectionChange });
    await c.signal("Counter/q", "add", 1);
    await s.stop();
    await drop;
    const queued = [1, 2, 3].map((n) => c.signal("Counter/q", "add", n));
    await expect(c.signal("Counter/q", "add", 4)).rejects.toMatchObject({ code: "queue_full" });
    for (const request of queued) await expect(request).rejects.toMatchObject({ code: "disconnected" });
    expect(c.connected).toBe(false);
  });

  it("resends signals whose acks were lost with their original ids (applied once), and fails the call in flight", async () => {
    const { url } = await server();
    const sockets: DeafSocket[] = [];
    const webSocket = async (target: string) => {
      const socket = new DeafSocket(await openWebSocket(target));
      sockets.push(socket);
      return socket;
    };
    const c = await client(url, { webSocket, disconnectTimeoutMs: 30_000 });
    const observer = await client(url);
    await c.signal("Counter/dedup", "add", 1);

    const first = sockets[0]!;
    first.deaf = true;
    const N = 1000;
    const sent = Array.from({ length: N }, () => c.signal("Counter/dedup", "add", 1));
    const call = c.call("Counter/dedup", "get");
    const checks: Array<() => void> = [];
    const watch = observer.subscribe<number>("Counter/dedup", () => checks.forEach((check) => check()));
    await waitFor((check) => checks.push(check), () => (watch.state === N + 1 ? true : undefined));

    first.close();
    await expect(call).rejects.toMatchObject({ code: "disconnected", message: expect.stringMatching(/may or may not have run/) });
    await Promise.all(sent);
    expect(sockets.length).toBeGreaterThan(1);
    expect(await observer.get("Counter/dedup")).toBe(N + 1);
  });

  it("resends unacknowledged signals after a restart, applying each exactly once", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const port = await freePort();
    let s = await server({ port, dataDir: dir.path });
    const c = await client(s.url, { disconnectTimeoutMs: 30_000 });
    const live: number[] = [];
    const checks: Array<() => void> = [];
    const subscription = c.subscribe<number>("Counter/resend", (state) => {
      live.push(state ?? 0);
      for (const check of checks) check();
    });
    await subscription.ready;

    const N = 2000;
    const sent: Array<Promise<void>> = [];
    const signal = () => c.signal("Counter/resend", "add", 1);
    for (let i = 0; i < N; i++) sent.push(signal());
    const stopped = s.stop();
    for (let i = 0; i < N; i++) sent.push(signal());
    await stopped;
    const inFlightCall = c.connected ? undefined : c.call("Counter/resend", "get");
    s = await server({ port, dataDir: dir.path });
    await Promise.all(sent);
    if (inFlightCall) expect(await inFlightCall).toBeGreaterThan(0);
    expect(await c.get("Counter/resend")).toBe(2 * N);
    await waitFor((check) => checks.push(check), () => (subscription.state === 2 * N ? true : undefined));
    expect(live.at(-1)).toBe(2 * N);
  });
});

describe("a client restarted with the same clientId", () => {
  it("has every signal of its new run applied (it numbers from 1 again)", async () => {
    const server = await startTestServer("ws");
    try {
      const first = await connect(server.url, { clientId: "billing-worker" });
      for (let i = 0; i < 5; i++) await first.signal("Counter/restarted", "add", 1);
      await first.close();
      const second = await connect(server.url, { clientId: "billing-worker" });
      for (let i = 0; i < 3; i++) await second.signal("Counter/restarted", "add", 100);
      expect(await second.get("Counter/restarted")).toBe(305);
      expect(second.clientId).toMatch(/^billing-worker\//);
      await second.close();
    } finally {
      await server.stop();
    }
  });
});

describe("client edge cases", () => {
  it("sends queued requests when a request in the window turns out unsendable", async () => {
    const server = await startTestServer("ws", { maxInflightRequests: 2 });
    try {
      const client = await connect(server.url);
      const bad = [client.signal("Counter/stall", "add", 1n as unknown as number), client.signal("Counter/stall", "add", 2n as unknown as number)];
      const good = client.signal("Counter/stall", "add", 5);
      for (const request of bad) await expect(request).rejects.toMatchObject({ code: "bad_request" });
      await good;
      expect(await client.get("Counter/stall")).toBe(5);
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it("sends an input object as it was when signal() or call() was called, not as the caller changed it later", async () => {
    const Log = defineEntity("Log", { initialState: (): unknown[] => [], operations: { push: (ctx, value: unknown) => void ctx.state.push(value) } });
    const server = await startTestServer("ws", { app: { Log } });
    try {
      const client = await connect(server.url);
      const payload = { n: 0 };
      const sent: Array<Promise<unknown>> = [];
      for (let n = 1; n <= 3; n++) {
        payload.n = n;
        sent.push(n === 2 ? client.call("Log/reuse", "push", payload) : client.signal("Log/reuse", "push", payload));
      }
      payload.n = 99;
      await Promise.all(sent);
      expect(await client.get("Log/reuse")).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expect(client.signal("Log/reuse", "push", cyclic)).rejects.toMatchObject({ code: "bad_request", message: /cannot be encoded as JSON/ });
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it("fails the ready of a subscription made while disconnected after disconnectTimeoutMs, like a request", async () => {
    const server = await startTestServer("ws");
    const proxy = await TcpProxy.start(server.port);
    try {
      let dropped!: () => void;
      const drop = new Promise<void>((resolve) => (dropped = resolve));
      const client = await connect(proxy.url, { onError: () => {}, disconnectTimeoutMs: 300, onConnectionChange: (connected) => connected || dropped() });
      await proxy.close();
      await drop;
      await new Promise((resolve) => setTimeout(resolve, 500)); // the timer the drop armed has fired
      const subscription = client.subscribe("Counter/offline", () => {});
      await expect(subscription.ready).rejects.toMatchObject({ code: "disconnected" });
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it("takes a clientId name of up to 128 characters, and refuses a longer one", async () => {
    const server = await startTestServer("ws");
    try {
      const client = await connect(server.url, { clientId: "n".repeat(128) });
      await client.signal("Counter/named", "add", 1);
      await client.close();
      await expect(connect(server.url, { clientId: "n".repeat(129) })).rejects.toThrow(/clientId must be 1 to 128 characters/);
    } finally {
      await server.stop();
    }
  });

  it("is not closed for a burst of answers larger than the buffer cap that it reads promptly", async () => {
    const server = await startTestServer("ws", { app: (await import("../fixtures/live-app.js")), maxBufferedBytes: 8 * 1024 * 1024 });
    try {
      let drops = 0;
      const client = await connect(server.url, { onConnectionChange: (connected) => (drops += connected ? 0 : 1) });
      await client.call("Board/big", "fill", 200 * 1024);
      const states = await Promise.all(Array.from({ length: 60 }, () => client.get<{ blob: string }>("Board/big"))); // ~12 MiB in one go, over the 8 MiB cap
      expect(states.every((state) => state?.blob.length === 200 * 1024)).toBe(true);
      expect(await client.call("Board/big", "bump", 1)).toBeGreaterThan(0); // a close frame would have come before this answer
      expect(drops).toBe(0);
      await client.close();
    } finally {
      await server.stop();
    }
  });
});
