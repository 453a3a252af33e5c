import { afterEach, describe, expect, it } from "vitest";
import type { MailboxMessage } from "../../../src/storage/index.js";
import { Counter, Log } from "../support/entities.js";
import { RuntimeHarness, readState, waitForState } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

async function appendMessages(messages: MailboxMessage[]): Promise<void> {
  const batch = harness.store.newBatch();
  for (const message of messages) batch.appendMessage(message);
  await harness.store.commit(batch);
}

describe("mailbox recovery on start()", () => {
  it("applies a message left in the mailbox exactly once and empties the mailbox", async () => {
    harness = await RuntimeHarness.open([Counter]);
    await appendMessages([{ target: "Counter/m", op: "add", input: 42, source: "Other/x" }]);
    expect(harness.mailbox()).toHaveLength(1);
    harness.runtime.start();
    await waitForState(harness.runtime, "Counter/m", (state) => state !== null);
    expect(await readState(harness.runtime, "Counter/m")).toEqual({ state: 42, version: 1 });
    expect(harness.mailbox()).toEqual([]);
    await harness.restart({ start: true });
    expect(harness.mailbox()).toEqual([]);
    expect(await readState(harness.runtime, "Counter/m")).toEqual({ state: 42, version: 1 });
  });

  it("applies recovered messages to one target in the order they were appended", async () => {
    harness = await RuntimeHarness.open([Log, Counter]);
    const messages: MailboxMessage[] = [];
    for (let i = 0; i < 30; i++) messages.push({ target: "Log/o", op: "append", input: i }, { target: `Counter/${i % 5}`, op: "add", input: i });
    await appendMessages(messages.slice(0, 20));
    await appendMessages(messages.slice(20));
    harness.runtime.start();
    await waitForState(harness.runtime, "Log/o", (state) => (state as { items: unknown[] } | null)?.items.length === 30);
    expect(await readState(harness.runtime, "Log/o")).toEqual({ state: { items: Array.from({ length: 30 }, (_, i) => i) }, version: 1 });
    for (let k = 0; k < 5; k++) {
      const expected = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 5 === k).reduce((a, b) => a + b, 0);
      expect((await readState(harness.runtime, `Counter/${k}`)).state).toBe(expected);
    }
    expect(harness.mailbox()).toEqual([]);
  });

  it("keeps a message whose entity type or operation this app does not have", async () => {
    harness = await RuntimeHarness.open([Counter]);
    await appendMessages([
      { target: "Gone/x", op: "add", input: 1 },
      { target: "Counter/k", op: "gone", input: 1 },
      { target: "Counter/k", op: "add", input: 5 },
    ]);
    harness.runtime.start();
    await waitForState(harness.runtime, "Counter/k", (state) => state !== null);
    expect(await readState(harness.runtime, "Counter/k")).toEqual({ state: 5, version: 1 });
    const kept = harness.mailbox().map(([, message]) => message);
    expect(kept).toHaveLength(2);
    expect(kept).toContainEqual({ target: "Gone/x", op: "add", input: 1 });
    expect(kept).toContainEqual({ target: "Counter/k", op: "gone", input: 1 });
  });

  it("does not apply anything from the mailbox before start()", async () => {
    harness = await RuntimeHarness.open([Counter]);
    await appendMessages([{ target: "Counter/s", op: "add", input: 3 }]);
    expect(await readState(harness.runtime, "Counter/s")).toEqual({ state: null, version: 0 });
    expect(harness.mailbox()).toHaveLength(1);
  });
});
