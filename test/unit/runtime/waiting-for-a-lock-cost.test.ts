import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/index.js";
import { defineOrchestration } from "../../../src/orchestration/index.js";
import type { Outcome } from "../../../src/runtime/index.js";
import { CrashableNode, type NodeApp } from "../support/crashable-node.js";
import { makeTempDir, removeDir } from "../support/temp-dir.js";

/*
 * Operations that arrive while an orchestration holds an entity wait for the release. Each later turn
 * of the entity (each new arrival) must not look at every operation already waiting again: with n
 * waiting that is n² checks of whether the holder still runs (each a read of its instance record
 * when the holder is not in memory).
 */

const Log = defineEntity("Log", { initialState: (): number[] => [], operations: { add: (ctx, n: number) => void ctx.state.push(n) } });

const Holds = defineOrchestration("Holds", function* (ctx) {
  const lock = yield* ctx.lock(["Log/a"]);
  yield ctx.waitForExternalEvent("go");
  lock.release();
});

const APP: NodeApp = { entities: [Log], orchestrations: [Holds] };

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function until(condition: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe("operations waiting for a held entity", () => {
  it("are not checked again at every later turn, and all run in order after the release", async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    let checks = 0;
    const node = await CrashableNode.open(dir, APP, {
      lockHolderCheck: (isRunning) => (holder) => {
        checks++;
        return isRunning(holder);
      },
    });
    try {
      node.start("h", "Holds", undefined);
      await until(() => node.store.readEntity("Log/a")?.lock?.instanceId === "h", "h holds Log/a");
      const bursts = 40;
      const perBurst = 10;
      const answers: Outcome[] = [];
      checks = 0;
      for (let b = 0; b < bursts; b++) {
        for (let i = 0; i < perBurst; i++) {
          node.runtime.submit({ kind: "signal", entityId: "Log/a", op: "add", input: b * perBurst + i, requestId: 1, replyTo: { deliver: (_id, outcome) => answers.push(outcome) } });
        }
        await new Promise((resolve) => setTimeout(resolve, 3)); // a turn of its own for each burst
      }
      const n = bursts * perBurst;
      // One check per arrival and per turn is linear; checking everything waiting again at each turn is about n²/(2 × perBurst) = 8,000.
      expect(checks).toBeLessThan(3 * n);
      expect(answers).toEqual([]);
      node.host.submit({ kind: "event", instanceId: "h", event: { type: "EventRaised", timestamp: 0, name: "go" } });
      await until(() => answers.length === n, "every signal is answered after the release");
      expect(node.store.readEntity("Log/a")?.state).toEqual(Array.from({ length: n }, (_, i) => i));
    } finally {
      await node.close();
    }
  });
});
