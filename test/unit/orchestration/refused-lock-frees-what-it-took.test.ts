import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { defineOrchestration } from "../../../src/orchestration/index.js";
import type { Outcome } from "../../../src/runtime/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * A lock set is taken one entity at a time in sorted order. When an entity further along the set
 * cannot be locked (its type is not in this app), the lock is refused; the entities already taken
 * for it must not stay held for an execution that was told it holds nothing.
 */

const Box = defineEntity("Box", {
  initialState: () => 0,
  operations: {
    get: (ctx) => ctx.state,
    add: (ctx, n: number) => {
      ctx.state += n;
    },
  },
});

/** Locks Box/a and Zebra/x (no such type: "Box/a" sorts first, so it is taken before the refusal), then waits. */
const Typo = defineOrchestration("Typo", function* (ctx) {
  let refused = "";
  try {
    yield* ctx.lock(["Zebra/x", "Box/a"]);
  } catch (error) {
    refused = (error as Error).message;
  }
  yield ctx.waitForExternalEvent("done");
  return { refused, locked: ctx.isLocked().locked };
});

/** Its first execution's lock is refused, and it continues as new: its next execution waits for "done". */
const TypoThenAgain = defineOrchestration("TypoThenAgain", function* (ctx, n: number) {
  if (n === 0) {
    try {
      yield* ctx.lock(["Zebra/x", "Box/a"]);
    } catch {
      ctx.continueAsNew(1);
      return undefined;
    }
  }
  return yield ctx.waitForExternalEvent("done");
});

const APP: NodeApp = { entities: [Box], orchestrations: [Typo, TypoThenAgain] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function until(condition: () => boolean, what: string, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("a refused lock", () => {
  it("leaves no entity of its set held while the execution goes on", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await CrashableNode.open(dir, APP);
    try {
      node.start("t", "Typo", undefined);
      await until(() => node.store.readHistory("t").some((event) => (event as { name?: string }).name === "@lock:0"), "the lock is refused");
      let answer: Outcome | undefined;
      node.runtime.submit({ kind: "call", entityId: "Box/a", op: "add", input: 1, requestId: 1, replyTo: { deliver: (_id, outcome) => (answer = outcome) } });
      await until(() => answer !== undefined, "a call on Box/a is answered while t runs", 2_000);
      expect(answer).toEqual({ kind: "result" });
      expect(node.store.readEntity("Box/a")?.lock).toBeUndefined();
      expect(node.instance("t")?.status).toBe("Running");
      node.host.submit({ kind: "event", instanceId: "t", event: { type: "EventRaised", timestamp: 0, name: "done" } });
      await until(() => node.instance("t")?.status === "Completed", "t completes");
      expect(node.instance("t")?.output).toMatchObject({ refused: expect.stringMatching(/Zebra/), locked: false });
    } finally {
      await node.close();
    }
  });

  it("sends nothing back for the releases of its set when its execution ends (no stray event reaches the next execution)", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const node = await CrashableNode.open(dir, APP);
    try {
      node.start("t2", "TypoThenAgain", 0);
      await until(() => node.instance("t2")?.historyLength !== undefined && node.store.readHistory("t2").some((event) => (event as { type: string }).type === "ExecutionStarted") && node.mailbox().length === 0, "the next execution runs and the mailboxes drain");
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const raised = node.store.readHistory("t2").filter((event) => (event as { type: string }).type === "EventRaised");
      expect(raised).toEqual([]);
      expect(node.store.readEntity("Box/a")?.lock).toBeUndefined();
      node.host.submit({ kind: "event", instanceId: "t2", event: { type: "EventRaised", timestamp: 0, name: "done", input: 7 } });
      await until(() => node.instance("t2")?.status === "Completed", "t2 completes");
      expect(node.instance("t2")?.output).toBe(7);
    } finally {
      await node.close();
    }
  });
});
