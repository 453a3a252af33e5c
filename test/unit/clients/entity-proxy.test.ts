import { describe, expect, it } from "vitest";
import { createEntityProxy } from "../../../clients/entity-proxy.js";
import { toWebSocketUrl } from "../../../clients/web-socket.js";

describe("createEntityProxy", () => {
  it("turns property calls into client requests", async () => {
    const requests: unknown[][] = [];
    const target = {
      call: async (...args: unknown[]) => (requests.push(["call", ...args]), 42),
      signal: async (...args: unknown[]) => void requests.push(["signal", ...args]),
      get: async (id: string) => (requests.push(["get", id]), { n: 1 }),
      subscribe: (id: string, listener: unknown) => (requests.push(["subscribe", id, listener]), {} as never),
    };
    const counter = createEntityProxy(target, "Counter/alice");
    expect(counter.id).toBe("Counter/alice");
    await expect(counter.call.add?.(5)).resolves.toBe(42);
    await counter.signal.reset?.();
    await expect(counter.get()).resolves.toEqual({ n: 1 });
    const listener = () => {};
    counter.subscribe(listener);
    expect(requests).toEqual([
      ["call", "Counter/alice", "add", 5],
      ["signal", "Counter/alice", "reset", undefined],
      ["get", "Counter/alice"],
      ["subscribe", "Counter/alice", listener],
    ]);
    expect(counter.call.add).toBe(counter.call.add);
  });

  it("is never mistaken for a promise", async () => {
    const target = { call: async () => 1, signal: async () => {}, get: async () => null, subscribe: () => ({}) as never };
    const counter = createEntityProxy(target, "Counter/alice");
    expect((counter.call as Record<string, unknown>).then).toBeUndefined();
    expect(await counter.call).toBe(counter.call);
  });
});

describe("toWebSocketUrl", () => {
  it("maps http(s) to ws(s) on /ws and keeps ws URLs", () => {
    expect(toWebSocketUrl("http://127.0.0.1:7071")).toBe("ws://127.0.0.1:7071/ws");
    expect(toWebSocketUrl("https://example.com/")).toBe("wss://example.com/ws");
    expect(toWebSocketUrl("https://example.com/app")).toBe("wss://example.com/app/ws");
    expect(toWebSocketUrl("ws://127.0.0.1:7071")).toBe("ws://127.0.0.1:7071/ws");
    expect(toWebSocketUrl("ws://127.0.0.1:7071/ws")).toBe("ws://127.0.0.1:7071/ws");
    expect(toWebSocketUrl("wss://example.com/custom")).toBe("wss://example.com/custom");
    expect(() => toWebSocketUrl("ftp://example.com")).toThrow(TypeError);
  });
});
