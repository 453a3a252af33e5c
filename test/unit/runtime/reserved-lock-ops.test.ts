import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { defineOrchestration } from "../../../src/orchestration/index.js";
import type { Outcome } from "../../../src/runtime/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * `@lock` and `@release` are the lock protocol's ops, reserved. A request that names one without
 * being a lock protocol message (a client's call or signal, an orchestration's callEntity) must be
 * answered with an error: not dropped unanswered, and never run through an entity's lock.
 */

const ran: string[] = [];
/** A dispatch entity takes any operation name. */
const Any = defineEntity("Any", (ctx) => {
  ran.push(ctx.operationName);
  ctx.setState(((ctx.getState() as number | undefined) ?? 0) + 1);
  return "ran";
});

const Box = defineEntity("Box", { initialState: () => 0, operations: { get: (ctx) => ctx.state } });

/** Calls Box/a's reserved op `@release` and reports how it went. */
const CallsReserved = defineOrchestration("CallsReserved", function* (ctx, op: string) {
  try {
    const result = yield ctx.callEntity("Box/a", op);
    return { result };
  } catch (error) {
    return { error: (error as Error).message };
  }
});

/** Holds Any/a until "go". */
const HoldsAny = defineOrchestration("HoldsAny", function* (ctx) {
  const lock = yield* ctx.lock(["Any/a"]);
  yield ctx.waitForExternalEvent("go");
  lock.release();
});

const APP: NodeApp = { entities: [Any, Box], orchestrations: [CallsReserved, HoldsAny] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
  ran.length = 0;
});

async function until(condition: () => boolean, what: string, boundMs = 5_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function open(): Promise<CrashableNode> {
  const dir = makeTempDir();
  dirs.push(dir);
  return CrashableNode.open(dir, APP);
}

function ask(node: CrashableNode, kind: "call" | "signal", entityId: string, op: string): { outcome?: Outcome } {
  const answer: { outcome?: Outcome } = {};
  node.runtime.submit({ kind, entityId, op, requestId: 1, replyTo: { deliver: (_id, outcome) => (answer.outcome = outcome) } });
  return answer;
}

describe("the lock protocol's reserved ops", () => {
  it("a client's call or signal naming one is answered with an error (and runs nothing)", async () => {
    const node = await open();
    try {
      const answers = [ask(node, "call", "Any/a", "@lock"), ask(node, "signal", "Any/a", "@release"), ask(node, "call", "Box/a", "@release")];
      await until(() => answers.every((answer) => answer.outcome !== undefined), "every request is answered");
      for (const { outcome } of answers) expect(outcome).toMatchObject({ kind: "error", code: "unknown_operation" });
      expect(ran).toEqual([]);
    } finally {
      await node.close();
    }
  });

  it("an orchestration's call naming one fails the call instead of waiting forever", async () => {
    const node = await open();
    try {
      node.start("c", "CallsReserved", "@release");
      await until(() => node.instance("c")?.status === "Completed", "c completes");
      expect(node.instance("c")?.output).toMatchObject({ error: expect.stringMatching(/reserved/) });
    } finally {
      await node.close();
    }
  });

  it("a client's `@release` neither passes nor frees the lock of an entity an orchestration holds", async () => {
    const node = await open();
    try {
      node.start("h", "HoldsAny", undefined);
      await until(() => node.store.readEntity("Any/a")?.lock?.instanceId === "h", "h holds Any/a");
      const answer = ask(node, "call", "Any/a", "@release");
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      // Like any operation, it waits for the lock (unanswered before, never dropped), and frees nothing.
      expect(answer.outcome).toBeUndefined();
      expect(node.store.readEntity("Any/a")?.lock?.instanceId).toBe("h");
      node.host.submit({ kind: "event", instanceId: "h", event: { type: "EventRaised", timestamp: 0, name: "go" } });
      await until(() => node.instance("h")?.status === "Completed", "h completes");
      await until(() => answer.outcome !== undefined, "the call is answered once h released Any/a");
      expect(answer.outcome).toMatchObject({ kind: "error", code: "unknown_operation" });
      expect(ran).toEqual([]);
    } finally {
      await node.close();
    }
  });
});
