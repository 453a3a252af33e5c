import { describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/log.js";
import { AccessGate } from "../../../src/server/access-gate.js";
import { ConnectionSession, type HubServices } from "../../../src/server/connection-session.js";
import { FairInput } from "../../../src/server/fair-input.js";
import { MemoryBudget } from "../../../src/server/memory-budget.js";
import type { TransportSocket } from "../../../src/server/transport.js";
import type { EntityRuntime } from "../../../src/runtime/index.js";
import { OriginPolicy } from "../../../src/security/index.js";

/** A socket that takes everything and remembers how it was closed. */
class QuietSocket implements TransportSocket {
  bufferedAmount = 0;
  closedWith: number | undefined;
  send(): void {}
  close(code: number): void {
    this.closedWith ??= code;
  }
  terminate(): void {
    this.closedWith ??= 1006;
  }
  cork(fn: () => void): void {
    fn();
  }
}

describe("a connection's log lines", () => {
  it("carry a connectionId of its own (made with its first line)", async () => {
    const written: string[] = [];
    const log = createLogger(
      "info",
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written.push(chunk.toString());
          callback();
        },
      }),
    );
    const hub: HubServices = { name: "default", runtime: {} as EntityRuntime, liveState: { subscribe: () => {}, unsubscribe: () => {}, drained: () => {}, closed: () => {} } };
    const open = () => {
      const socket = new QuietSocket();
      const context = {
        hubs: { peek: () => hub, get: async () => hub },
        gate: new AccessGate(undefined, new OriginPolicy([], "http")),
    sessions: new Set<ConnectionSession>(),
        maxMessageBytes: 1024 * 1024,
        maxBufferedBytes: 10_000,
        maxInflightRequests: 1000,
        input: new FairInput(1024 * 1024),
        budget: new MemoryBudget(1024 * 1024 * 1024, createLogger("silent")),
        log,
      };
      return { session: new ConnectionSession(socket, context), socket };
    };
    const first = open();
    const second = open();
    expect(written).toEqual([]); // nothing logged yet: no id made
    // Answers far over the unsent-bytes cap: each connection is closed with a warning.
    for (const { session } of [first, second]) for (let id = 1; id <= 10; id++) session.reply(id, { kind: "result", value: "x".repeat(10_000) });
    await new Promise((resolve) => setImmediate(resolve));
    expect([first.socket.closedWith, second.socket.closedWith]).toEqual([4008, 4008]);
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatchObject({ level: "warn", msg: "closing a connection whose answers would pass the unsent-bytes cap", connectionId: expect.stringMatching(/^[A-Za-z0-9_-]{8}$/) });
    expect(lines[0]!.connectionId).not.toBe(lines[1]!.connectionId);
  });
});
