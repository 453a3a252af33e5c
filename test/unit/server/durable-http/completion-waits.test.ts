import { describe, expect, it } from "vitest";
import type { InstanceChange, InstanceStatus, OrchestrationHost } from "../../../../src/orchestration/index.js";
import { CompletionWaits } from "../../../../src/server/durable-http/completion-waits.js";

/** A host that only pushes the changes a test hands it. */
function fakeHost() {
  let listener: ((changes: readonly InstanceChange[]) => void) | undefined;
  const host = { onChange: (fn: (changes: readonly InstanceChange[]) => void) => void (listener = fn) } as unknown as OrchestrationHost;
  return { host, push: (changes: InstanceChange[]) => listener?.(changes) };
}

const completed = (instanceId: string) => ({ instanceId, status: { instanceId, runtimeStatus: "Completed", output: 1 } as unknown as InstanceStatus }) as InstanceChange;

describe("CompletionWaits", () => {
  it("holds at most maxWaits waits at once: past it a start answers at once (its 202), and a freed slot is taken again", async () => {
    const { host, push } = fakeHost();
    const waits = new CompletionWaits(host, 3);
    const held = ["a", "b", "c"].map((id) => waits.wait(id)!);
    expect(held.every((wait) => wait !== undefined)).toBe(true);
    expect(waits.wait("d")).toBeUndefined(); // full
    const a = held[0]!.until(60_000);
    push([completed("a")]);
    expect(await a).toMatchObject({ runtimeStatus: "Completed" });
    const d = waits.wait("d"); // a's slot is free again
    expect(d).toBeDefined();
    held[1]!.cancel();
    expect(waits.wait("e")).toBeDefined();
    expect(waits.wait("f")).toBeUndefined();
    expect(await held[2]!.until(1)).toBeUndefined(); // timed out: its slot is freed too
    expect(waits.wait("g")).toBeDefined();
  });
});
