import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { ConnectionSession, type ConnectionContext, type HubServices } from "../../../src/server/connection-session.js";
import { AccessGate } from "../../../src/server/access-gate.js";
import { OriginPolicy } from "../../../src/security/index.js";
import { FairInput } from "../../../src/server/fair-input.js";
import { MemoryBudget } from "../../../src/server/memory-budget.js";
import type { TransportSocket } from "../../../src/server/transport.js";
import type { EntityRuntime, OperationRequest } from "../../../src/runtime/index.js";

/** A socket whose unsent bytes the test sets, recording what is sent and how it is closed. */
class ScriptedSocket implements TransportSocket {
  bufferedAmount = 0;
  readonly messages: string[] = [];
  closedWith: number | undefined;

  send(message: string | Uint8Array): void {
    this.messages.push(typeof message === "string" ? message : Buffer.from(message).toString());
  }

  close(code: number): void {
    this.closedWith ??= code;
  }

  terminate(): void {
    this.closedWith ??= 1006;
  }

  cork(fn: () => void): void {
    fn();
  }

  get frames(): Array<Record<string, unknown>> {
    return this.messages.flatMap((message) => {
      const parsed = JSON.parse(message) as Record<string, unknown> | Array<Record<string, unknown>>;
      return Array.isArray(parsed) ? parsed : [parsed];
    });
  }
}

/** A runtime that acks every signal at once (these tests are about the connection, not the entities). */
const ackingRuntime = {
  registry: { check: () => undefined },
  checkOperation: () => undefined,
  submit: (request: OperationRequest) => request.replyTo?.deliver(request.requestId ?? 0, { kind: "ack" }),
} as unknown as EntityRuntime;

function session(maxBufferedBytes: number): { session: ConnectionSession; socket: ScriptedSocket } {
  const socket = new ScriptedSocket();
  const hub: HubServices = {
    name: "default",
    runtime: ackingRuntime,
    liveState: { subscribe: () => {}, unsubscribe: () => {}, drained: () => {}, closed: () => {} },
  };
  const context: ConnectionContext = {
    hubs: { peek: () => hub, get: async () => hub },
    gate: new AccessGate(undefined, new OriginPolicy([], "http")),
    sessions: new Set<ConnectionSession>(),
    maxMessageBytes: 1024 * 1024,
    maxBufferedBytes,
    maxInflightRequests: 1000,
    input: new FairInput(1024 * 1024),
    budget: new MemoryBudget(1024 * 1024 * 1024, createLogger("silent")),
    log: createLogger("silent"),
  };
  return { session: new ConnectionSession(socket, context), socket };
}

const nextJob = () => new Promise((resolve) => setImmediate(resolve));
const state = (id: number, size: number) => ({ kind: "state" as const, entityId: "Blob/x", state: "x".repeat(size), version: 1 });

describe("ConnectionSession answers", () => {
  it("packs many small answers into few messages, in order", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    for (let id = 1; id <= 3000; id++) s.reply(id, { kind: "result", value: id });
    await nextJob();
    expect(socket.messages).toHaveLength(2); // at most 2,000 frames a message
    expect(socket.frames.map((f) => f.id)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it("puts large answers in messages of about a MiB each", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    for (let id = 1; id <= 3; id++) s.reply(id, state(id, 600_000));
    await nextJob();
    expect(socket.messages).toHaveLength(3);
    expect(socket.frames).toHaveLength(3);
  });

  it("stops building answers past four times the cap and closes with 4008, instead of encoding them all", async () => {
    const { session: s, socket } = session(100_000);
    for (let id = 1; id <= 500; id++) s.reply(id, state(id, 10_000)); // 5 MB of answers for a 400 kB cap
    await nextJob();
    expect(socket.closedWith).toBe(4008);
    expect(socket.messages.join("").length).toBe(0); // nothing of the batch was sent
    s.reply(501, { kind: "ack" });
    await nextJob();
    expect(socket.messages).toHaveLength(0); // a closed session sends nothing more
  });

  it("closes with 4008 when unsent answers stay over the cap for a second, even if nothing more is sent", async () => {
    const { session: s, socket } = session(1000);
    socket.bufferedAmount = 2000; // over the cap, under four times it: a burst the client may still read
    s.reply(1, { kind: "ack" });
    await nextJob();
    expect(socket.closedWith).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(socket.closedWith).toBe(4008);
  });

  it("keeps a connection whose buffer drained within the second", async () => {
    const { session: s, socket } = session(1000);
    socket.bufferedAmount = 2000;
    s.reply(1, { kind: "ack" });
    await nextJob();
    socket.bufferedAmount = 0;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(socket.closedWith).toBeUndefined();
  });

  it("gives a client that read its burst a fresh second when the next burst comes", async () => {
    const { session: s, socket } = session(1000);
    socket.bufferedAmount = 2000;
    s.reply(1, { kind: "ack" });
    await nextJob();
    socket.bufferedAmount = 0; // the client read it all
    s.onDrain();
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    socket.bufferedAmount = 2000; // a second burst, a second later
    s.reply(2, { kind: "ack" });
    await nextJob();
    expect(socket.closedWith).toBeUndefined();
  });
});

describe("ConnectionSession order and errors", () => {
  it("sends a live update queued before an answer ahead of it, and one queued after behind it", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    s.queueLive(() => s.sendEncoded('{"type":"patch","entity":"Stats/a","version":1,"patch":[]}'));
    s.reply(1, { kind: "result", value: "after the update" });
    s.queueLive(() => s.sendEncoded('{"type":"patch","entity":"Stats/a","version":2,"patch":[]}'));
    await nextJob();
    expect(socket.frames.map((f) => f.type === "patch" ? `patch ${f.version}` : `result ${f.id}`)).toEqual(["patch 1", "result 1", "patch 2"]);
  });

  it("holds live updates until the fan-out flushes them, unless an answer's flush takes them along", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    s.queueLive(() => s.sendEncoded('{"type":"patch","entity":"Stats/a","version":1,"patch":[]}'));
    await nextJob();
    expect(socket.messages).toEqual([]);
    s.flush();
    expect(socket.frames.map((f) => f.version)).toEqual([1]);
  });

  it("answers equal errors released together with one frame listing their ids", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    const failed = { kind: "error" as const, code: "unknown_operation" as const, message: 'entity type "Counter" has no operation "fly"' };
    for (let id = 1; id <= 1000; id++) s.reply(id, failed);
    s.reply(1001, { ...failed, message: "another message" });
    await nextJob();
    expect(socket.frames).toEqual([
      { type: "error", ids: Array.from({ length: 1000 }, (_, i) => i + 1), code: "unknown_operation", message: failed.message },
      { type: "error", id: 1001, code: "unknown_operation", message: "another message" },
    ]);
  });

  it("refuses a signal whose id is not above the previous signal's on the connection, and runs the rest", async () => {
    const { session: s, socket } = session(16 * 1024 * 1024);
    s.onMessage(JSON.stringify({ type: "hello", version: 1, clientId: "raw" }));
    s.onMessage(JSON.stringify([5, 6, 6, 3, Number.MAX_SAFE_INTEGER, 7].map((id) => ({ type: "signal", id, entity: "Counter/a", op: "add", input: 1 }))));
    await nextJob();
    const acked = socket.frames.filter((f) => f.type === "ack").flatMap((f) => f.ids as number[]);
    expect(acked).toEqual([5, 6, Number.MAX_SAFE_INTEGER]);
    const refused = socket.frames.filter((f) => f.type === "error");
    expect(refused.flatMap((f) => (f.ids as number[] | undefined) ?? [f.id])).toEqual([6, 3, 7]);
    expect(refused.every((f) => f.code === "bad_request" && /signal ids must increase/.test(String(f.message)))).toBe(true);
  });
});
