import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { defineOrchestration, type OrchestrationContext } from "../../../src/orchestration/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * An entity's answer (a lock grant, a call's result) is addressed to one execution of an instance.
 * After continue-as-new, the next execution numbers its actions from 0 again: an answer meant for
 * the previous execution must not settle the new execution's action of the same number.
 */

const Box = defineEntity("Box", {
  initialState: () => 0,
  operations: {
    get: (ctx) => ctx.state,
    set: (ctx, value: number) => {
      ctx.state = value;
    },
  },
});

/** Locks Box/b and keeps it until the event "go". */
const Holder = defineOrchestration("Holder", function* (ctx) {
  const lock = yield* ctx.lock(["Box/b"]);
  yield ctx.waitForExternalEvent("go");
  lock.release();
  return "released";
});

/**
 * Its first execution asks for a lock (action 0) on Box/a, and for Box/a's value (action 1), then
 * continues as new at once; the second asks for a lock on Box/b (action 0) and calls Box/b (action 1).
 */
const Again = defineOrchestration("Again", function* (ctx: OrchestrationContext<number>, n: number) {
  if (n === 0) {
    ctx.lock(["Box/a"]);
    ctx.continueAsNew(1);
    return undefined;
  }
  yield* ctx.lock(["Box/b"]);
  return "got Box/b";
});

const Calls = defineOrchestration("Calls", function* (ctx: OrchestrationContext<number>, n: number) {
  if (n === 0) {
    ctx.callEntity("Box/a", "get");
    ctx.continueAsNew(1);
    return undefined;
  }
  return yield ctx.callEntity("Box/b", "get");
});

const APP: NodeApp = { entities: [Box], orchestrations: [Holder, Again, Calls] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits until nothing is left in the mailboxes but requests waiting for Box/b (held), and a little longer. */
async function idle(node: CrashableNode): Promise<void> {
  await until(() => node.mailbox().every(([, message]) => message.kind === undefined && message.target === "Box/b"), "the mailboxes drain");
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("entity answers after continue-as-new", () => {
  it("a lock grant meant for the previous execution does not grant the new execution's lock request", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await CrashableNode.open(dir, APP);
    try {
      node.start("h", "Holder", undefined);
      await until(() => node.store.readEntity("Box/b")?.lock?.instanceId === "h", "h holds Box/b");
      node.start("x", "Again", 0);
      await idle(node);
      // Box/b is still held by h: x's second execution must still be waiting for it.
      expect(node.store.readEntity("Box/b")?.lock?.instanceId).toBe("h");
      expect(node.instance("x")?.status).toBe("Running");
      node.host.submit({ kind: "event", instanceId: "h", event: { type: "EventRaised", timestamp: 0, name: "go" } });
      await until(() => node.instance("x")?.status === "Completed", "x completes once h released Box/b");
      expect(node.instance("x")?.output).toBe("got Box/b");
    } finally {
      await node.close();
    }
  });

  it("a call's answer meant for the previous execution does not answer the new execution's call", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await CrashableNode.open(dir, APP);
    try {
      node.runtime.submit({ kind: "signal", entityId: "Box/a", op: "set", input: 1 });
      node.runtime.submit({ kind: "signal", entityId: "Box/b", op: "set", input: 2 });
      await until(() => node.store.readEntity("Box/b")?.version === 1, "the boxes are set");
      node.start("c", "Calls", 0);
      await until(() => node.instance("c")?.status === "Completed", "c completes");
      expect(node.instance("c")?.output).toBe(2);
    } finally {
      await node.close();
    }
  });
});
