import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection, type Subscription } from "nats";
import { ForwardedRequests } from "../../../src/cluster/forwarded-requests.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import type { Logger } from "../../../src/log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../../../src/runtime/index.js";
import type { LmdbStore } from "../../../src/storage/index.js";
import { isListening } from "../support/processes.js";

const PARTITION = 9;
const SUBJECT = partitionLogAddress("default", PARTITION).subject.replace(".log.", ".requests.");
const encoder = new TextEncoder();

function natsServerBinary(): string {
  if (process.env.NATS_SERVER) return process.env.NATS_SERVER;
  for (const dir of (process.env.PATH ?? "").split(":").concat("/usr/sbin", "/usr/bin")) if (dir && existsSync(join(dir, "nats-server"))) return join(dir, "nats-server");
  throw new Error("nats-server not found");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A plain nats-server (no JetStream: forwarded requests need none) that can be killed and started again on its port. */
class RestartableNats {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn(natsServerBinary(), ["-a", "127.0.0.1", "-p", String(this.port)], { stdio: "ignore" });
    while (!(await isListening(this.port))) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * The forwarding node's NATS connection breaks and comes back (its server restarted): its one reply
 * subscription is made again, a try whose answer was lost meanwhile ends (nothing waits for ever), a
 * request that may be sent again is, and the requests after it are answered. Also: a partition with no
 * owner (NATS says no responders) is asked again until one listens, and a late reply to a try given
 * up on is not taken for the answer of the next.
 */
describe("forwarded requests: a reconnecting connection, no owner, late replies", () => {
  let nats: RestartableNats;
  let node: NatsConnection;
  let owner: NatsConnection;
  let ownerSubscription: Subscription | undefined;
  let forwarded: ForwardedRequests;
  const runtime = { forward: undefined, submit: () => undefined } as unknown as EntityRuntime;
  const replies: Array<(message: Msg) => void | Promise<void>> = [];
  let batches = 0;

  const listen = async () => {
    ownerSubscription = owner.subscribe(SUBJECT, {
      callback: (_error, message) => {
        batches++;
        void replies.shift()?.(message);
      },
    });
    await owner.flush();
  };

  beforeAll(async () => {
    nats = new RestartableNats(await freePort());
    await nats.start();
    const options = { servers: [nats.url], reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 };
    node = await connectNats(options);
    owner = await connectNats(options);
    const store = { isLocal: () => false, partitionOf: () => PARTITION } as unknown as LmdbStore;
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, fatal: () => undefined, child: () => log };
    forwarded = new ForwardedRequests(node, "default", store, runtime, undefined, log);
  });

  afterAll(async () => {
    forwarded?.stop();
    await node?.close();
    await owner?.close();
    await nats?.kill();
  });

  const forward = (request: Omit<OperationRequest, "replyTo" | "requestId">) =>
    new Promise<Outcome>((resolve) => {
      expect(runtime.forward!({ ...request, replyTo: { deliver: (_id, outcome) => resolve(outcome) }, requestId: 1 })).toBe(true);
    });
  const answers = (outcome: Outcome) => encoder.encode(JSON.stringify({ answers: [{ outcome }] }));
  /** The same outcome for every request of the batch. */
  const answerAll = (message: Msg, outcome: Outcome) => {
    const { requests } = message.json<{ requests: unknown[] }>();
    owner.publish(message.reply!, encoder.encode(JSON.stringify({ answers: requests.map(() => ({ outcome })) })));
  };
  const signal = (seq: number) => ({ kind: "signal", entityId: "Blob/x", op: "append", input: "y", sender: { clientId: "c", seq } }) as const;

  it("asks a partition with no owner again until one listens, and takes its answer", { timeout: 60_000 }, async () => {
    const sent = node.stats().outMsgs;
    const call = forward({ kind: "call", entityId: "Blob/x", op: "append", input: "z" });
    const numbered = forward(signal(1));
    // No one listens: NATS answers each try at once with no responders, and the node asks again (three tries at least).
    while (node.stats().outMsgs < sent + 3) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toBe(0);
    // The call goes in a batch of its own, the signal in the next (it waits for the call's answer).
    replies.push((message) => answerAll(message, { kind: "result", value: 1 }));
    replies.push((message) => answerAll(message, { kind: "ack" }));
    await listen();
    expect(await call).toEqual({ kind: "result", value: 1 });
    expect(await numbered).toEqual({ kind: "ack" });
    expect(batches).toBe(2); // each applied once: the tries no one heard were not answered as if they had been
  });

  it("does not take a late reply to a try given up on for the answer of the next", { timeout: 60_000 }, async () => {
    const before = batches;
    let first: Msg | undefined;
    replies.push((message) => void (first = message)); // the owner is slow: no answer in time
    replies.push((message) => {
      // Its answer to the first try comes now, late; then the answer to this one.
      first!.respond(answers({ kind: "error", code: "operation_failed", message: "stale" }));
      owner.publish(message.reply!, answers({ kind: "ack" }));
    });
    expect(await forward(signal(2))).toEqual({ kind: "ack" });
    expect(batches - before).toBe(2);
  });

  it("after the node's NATS connection comes back, a try whose answer was lost ends, is sent again, and is answered", { timeout: 90_000 }, async () => {
    const before = batches;
    let lost: Msg | undefined;
    const received = new Promise<void>((resolve) => replies.push((message) => ((lost = message), resolve())));
    const outcome = forward(signal(3));
    await received;
    await nats.kill();
    await nats.start();
    // The owner (reconnected too) answers the first try while the node may still be away: that answer is lost or late.
    replies.push((message) => owner.publish(message.reply!, answers({ kind: "ack" })));
    void lost;
    expect(await outcome).toEqual({ kind: "ack" });
    expect(batches - before).toBeGreaterThanOrEqual(2);
    // The reply subscription is back: a call (sent once) is answered.
    replies.push((message) => owner.publish(message.reply!, answers({ kind: "result", value: 7 })));
    expect(await forward({ kind: "call", entityId: "Blob/x", op: "read" })).toEqual({ kind: "result", value: 7 });
    expect(node.isClosed()).toBe(false);
  });

  it("a try open when the node's NATS connection is closed ends with that, not with a wait for an answer that cannot come", { timeout: 60_000 }, async () => {
    const leaving = await connectNats({ servers: [nats.url] });
    const local = { forward: undefined, submit: () => undefined } as unknown as EntityRuntime;
    const store = { isLocal: () => false, partitionOf: () => PARTITION } as unknown as LmdbStore;
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, fatal: () => undefined, child: () => log };
    const leavingForwards = new ForwardedRequests(leaving, "default", store, local, undefined, log);
    if (ownerSubscription === undefined) await listen();
    const received = new Promise<void>((resolve) => replies.push(() => resolve())); // the owner takes the batch, and is slow
    const outcome = new Promise<Outcome>((resolve) => local.forward!({ kind: "call", entityId: "Blob/x", op: "read", replyTo: { deliver: (_id, result) => resolve(result) }, requestId: 1 }));
    await received;
    leavingForwards.stop();
    await leaving.close();
    const answered = await outcome;
    expect(answered).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect((answered as { message: string }).message).toContain("could not be asked");
    expect((answered as { message: string }).message).toContain("may or may not have been applied");
  });
});
