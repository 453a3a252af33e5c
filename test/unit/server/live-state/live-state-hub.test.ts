import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionSession } from "../../../../src/server/connection-session.js";
import { LiveStateHub } from "../../../../src/server/live-state/index.js";
import { Counter } from "../../support/entities.js";
import { RuntimeHarness } from "../../support/runtime-harness.js";

let harness: RuntimeHarness;
let hub: LiveStateHub;
afterEach(async () => {
  hub?.close();
  await harness.dispose();
});

/** What the hub uses of a connection, recording the frames it is sent (the socket never backs up). */
function recordingSession(): ConnectionSession & { frames: Array<Record<string, unknown>> } {
  const frames: Array<Record<string, unknown>> = [];
  const take = (message: string | Uint8Array) => {
    const parsed = JSON.parse(typeof message === "string" ? message : Buffer.from(message).toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
    frames.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  };
  const live: Array<() => void> = [];
  const socket = { bufferedAmount: 0, send: take, close: () => {} };
  return {
    frames,
    socket,
    /** What the hub reads for its soft and hard limits (the fake sends at once: only the socket's buffer). */
    get unsentBytes() {
      return socket.bufferedAmount;
    },
    live,
    queueLive: (delivery: () => void) => live.push(delivery),
    flush: () => {
      for (const delivery of live.splice(0)) delivery();
    },
    sendEncoded: take,
    send: (frame: Record<string, unknown>) => frames.push(frame),
    reply: (id: number, outcome: unknown) => frames.push({ reply: id, outcome }),
    close: () => {},
  } as unknown as ConnectionSession & { frames: Array<Record<string, unknown>> };
}

const versionsOf = (frames: Array<Record<string, unknown>>) => frames.filter((f) => f.type === "snapshot" || f.type === "patch").map((f) => [f.state, f.version]);

describe("LiveStateHub", () => {
  it("sends a change to an earlier subscriber even when a later subscriber's snapshot already showed that version", async () => {
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime);
    const a = recordingSession();
    const b = recordingSession();
    const ignore = { deliver: () => {} };
    // tick 1: A's snapshot read, with a write elsewhere so the tick's release waits for a flush
    hub.subscribe(a, 1, "Counter/x", undefined);
    harness.runtime.submit({ kind: "signal", entityId: "Counter/other", op: "add", input: 1, replyTo: ignore });
    await new Promise((resolve) => setImmediate(resolve));
    // tick 2: Counter/x changes, and B subscribes after the change in the same turn (its read sees it)
    harness.runtime.submit({ kind: "signal", entityId: "Counter/x", op: "add", input: 7, replyTo: ignore });
    hub.subscribe(b, 1, "Counter/x", undefined);
    await harness.runtime.close();
    await new Promise((resolve) => setImmediate(resolve)); // the fan-out's slice
    expect(versionsOf(a.frames)).toEqual([
      [null, 0],
      [7, 1],
    ]);
    expect(versionsOf(b.frames)).toEqual([[7, 1]]);
  });

  it("keeps at most maxIdleFeeds feeds without subscribers: subscribe/unsubscribe churn does not pile them up", async () => {
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime, { maxIdleFeeds: 100 });
    const session = recordingSession();
    const active = recordingSession();
    hub.subscribe(active, 1, "Counter/kept", undefined);
    for (let i = 0; i < 1_000; i++) {
      hub.subscribe(session, 2 * i, `Counter/churn-${i}`, undefined);
      hub.unsubscribe(session, 2 * i + 1, `Counter/churn-${i}`);
    }
    expect(hub.stats()).toMatchObject({ feeds: 101, subscriptions: 1 });
    await harness.runtime.close(); // the snapshot reads still answer (or are ignored) without error
  });

  it("holds snapshots while the connection is over the soft limit and sends them, with their request ids, when it drains", async () => {
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime, { softBufferBytes: 1000 });
    const session = recordingSession();
    const socket = session.socket as { bufferedAmount: number };
    socket.bufferedAmount = 5000; // a burst of large snapshots is still being written
    for (let i = 1; i <= 3; i++) hub.subscribe(session, i, `Counter/s${i}`, undefined);
    hub.subscribe(session, 4, "Counter/s4", undefined);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the snapshot reads are answered
    hub.unsubscribe(session, 5, "Counter/s4");
    expect(session.frames.filter((f) => f.type === "snapshot")).toEqual([]);
    socket.bufferedAmount = 0;
    hub.drained(session);
    expect(session.frames.filter((f) => f.type === "snapshot").map((f) => [f.entity, f.id])).toEqual([
      ["Counter/s1", 1],
      ["Counter/s2", 2],
      ["Counter/s3", 3],
    ]);
    expect(session.frames.filter((f) => "reply" in f).map((f) => f.reply)).toEqual([4, 5]); // cancelled before its snapshot: ack
    await harness.runtime.close();
  });

  it("drops a feed idle for idleFeedMs even when its session unsubscribes from it again", async () => {
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime, { idleFeedMs: 200 });
    const session = recordingSession();
    hub.subscribe(session, 1, "Counter/first", undefined);
    hub.unsubscribe(session, 2, "Counter/first");
    hub.subscribe(session, 3, "Counter/second", undefined);
    hub.unsubscribe(session, 4, "Counter/second");
    await new Promise((resolve) => setTimeout(resolve, 900));
    hub.unsubscribe(session, 5, "Counter/first"); // not subscribed any more: must not make it look freshly idle
    await new Promise((resolve) => setTimeout(resolve, 400)); // the sweep runs once a second
    expect(hub.stats().feeds).toBe(0);
    await harness.runtime.close();
  });

  it("queues one catch-up per subscriber however many versions a tick makes, and sends the missed changes or one snapshot", async () => {
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime);
    const sessions = Array.from({ length: 50 }, () => recordingSession());
    for (const session of sessions) hub.subscribe(session, 1, "Counter/hot", undefined);
    await new Promise((resolve) => setTimeout(resolve, 50)); // snapshots at version 0
    const ignore = { deliver: () => {} };
    // One message of [signal, get] × 2,000: every get closes a version, so this tick makes 2,000 of them.
    for (let i = 0; i < 2_000; i++) {
      harness.runtime.submit({ kind: "signal", entityId: "Counter/hot", op: "add", input: 1, replyTo: ignore });
      harness.runtime.submit({ kind: "read", entityId: "Counter/hot", op: "", replyTo: ignore });
    }
    await harness.runtime.close();
    for (const session of sessions) expect((session as unknown as { live: unknown[] }).live.length).toBeLessThanOrEqual(1);
    for (const session of sessions) session.flush();
    for (const session of sessions) expect(versionsOf(session.frames).at(-1)).toEqual([2_000, 2_000]); // one snapshot: far behind
    // A subscriber a few versions behind gets exactly the changes it missed, in order.
    hub.close();
    await harness.dispose();
    harness = await RuntimeHarness.open([Counter]);
    hub = new LiveStateHub(harness.runtime);
    const near = recordingSession();
    hub.subscribe(near, 1, "Counter/warm", undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 3; i++) {
      harness.runtime.submit({ kind: "signal", entityId: "Counter/warm", op: "add", input: 1, replyTo: ignore });
      harness.runtime.submit({ kind: "read", entityId: "Counter/warm", op: "", replyTo: ignore });
    }
    await harness.runtime.close();
    near.flush();
    expect(near.frames.filter((f) => f.type === "snapshot" || f.type === "patch").map((f) => [f.type, f.version])).toEqual([
      ["snapshot", 0],
      ["snapshot", 1], // small states go as whole states: a "patch" frame only when it is smaller
      ["snapshot", 2],
      ["snapshot", 3],
    ]);
  });
});
