import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * A scheduled signal that comes due while its entity type (or operation) is not in the app: it must
 * not be lost, nor applied twice, nor stay among the durable timers held by the process (each such
 * timer stays "in flight" and every later timer lookup reads past all of them: with 20,000 of them
 * every timer that fires costs over 100 ms of reads). It is kept like a signal from an entity to a
 * type the app lacks: a durable mailbox message, applied once an app that has the type starts.
 */

const Later = defineEntity("Later", { initialState: () => 0, operations: { add: (ctx, n: number) => void (ctx.state += n), get: (ctx) => ctx.state } });
const Box = defineEntity("Box", { initialState: () => 0, operations: { get: (ctx) => ctx.state } });

const WITH: NodeApp = { entities: [Later, Box], orchestrations: [] };
const WITHOUT: NodeApp = { entities: [Box], orchestrations: [] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function until(condition: () => boolean, what: string, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("a scheduled signal whose entity type is gone when it comes due", () => {
  it("leaves the timers for the mailbox, and is applied exactly once when the type is back", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const at = Date.now() + 300;
    const first = await CrashableNode.open(dir, WITH);
    let acked = false;
    for (let i = 0; i < 3; i++) {
      first.runtime.submit({ kind: "signal", entityId: `Later/k${i}`, op: "add", input: 1, at, requestId: 1, replyTo: { deliver: () => (acked = true) } });
    }
    await until(() => acked && first.timers().length === 3, "the signals are scheduled");
    await first.close();

    const without = await CrashableNode.open(dir, WITHOUT);
    try {
      await until(() => Date.now() > at + 50 && without.timers().length === 0, "the due timers leave the timer table");
      const kept = without.mailbox().map(([, message]) => message);
      expect(kept).toHaveLength(3);
      expect(kept).toEqual(expect.arrayContaining([expect.objectContaining({ target: "Later/k0", op: "add", input: 1 })]));
      expect(kept.every((message) => !("at" in message))).toBe(true);
    } finally {
      await without.close();
    }

    const back = await CrashableNode.open(dir, WITH);
    try {
      await until(() => back.mailbox().length === 0, "the kept signals are applied");
      for (let i = 0; i < 3; i++) expect(back.store.readEntity(`Later/k${i}`)?.state).toBe(1);
      expect(back.timers()).toEqual([]);
    } finally {
      await back.close();
    }
  });
});
