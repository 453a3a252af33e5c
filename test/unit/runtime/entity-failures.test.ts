import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { defineEntity, EntityRuntime, type EntityRuntimeOptions } from "../../../src/runtime/index.js";
import type { LmdbStore } from "../../../src/storage/index.js";
import { captureLog } from "../support/capture-log.js";
import { call, readState, signal } from "../support/runtime-harness.js";
import { TempStores } from "../support/temp-dir.js";

const Fragile = defineEntity("Fragile", {
  initialState: () => ({ ok: 0 }),
  operations: {
    explode: (_ctx, input: { n: number }) => {
      throw new Error(`exploded on ${input.n}`);
    },
    strict: { input: z.number(), run: (ctx, n) => void (ctx.state.ok += n) },
    ok: (ctx) => void ctx.state.ok++,
  },
});
const Brittle = defineEntity("Brittle", { initialState: () => 0, operations: { explode: () => { throw new Error("brittle"); } } });

const Sender = defineEntity("Sender", {
  initialState: () => ({ sent: 0 }),
  operations: {
    send: (ctx, input: { to: string; op: string; inputs: unknown[] }) => {
      for (const item of input.inputs) ctx.signalEntity(input.to, input.op, item);
      ctx.state.sent += input.inputs.length;
      return "sent";
    },
  },
});

const stores = new TempStores();
const runtimes: EntityRuntime[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
  await stores.dispose();
});

async function open(dir: string, options: Partial<EntityRuntimeOptions> = {}) {
  const store = await stores.openStore(dir);
  const log = captureLog();
  const runtime = new EntityRuntime({ store, entities: [Fragile, Brittle, Sender], log, ...options });
  runtime.start();
  runtimes.push(runtime);
  return { store, log, runtime };
}

async function closeAll(store: LmdbStore): Promise<void> {
  for (const runtime of runtimes.splice(0)) await runtime.close();
  await stores.closeStore(store);
}

/** Signals from Sender/s to `to`, and waits until `count` failures of its type are listed. */
async function sendFailing(runtime: EntityRuntime, to: string, op: string, inputs: unknown[], count: number) {
  expect(await call(runtime, "Sender/s", "send", { to, op, inputs })).toEqual({ kind: "result", value: "sent" });
  const entityType = to.split("/")[0]!;
  await vi.waitFor(() => expect(runtime.failures({ entityType }).failures.length).toBeGreaterThanOrEqual(count));
}

describe("a failed signal between entities", () => {
  it("is kept, with its input, error and sender, and logged once at warn with its stack", async () => {
    const dir = stores.newDir();
    const { store, log, runtime } = await open(dir);
    await sendFailing(runtime, "Fragile/a", "explode", [{ n: 1 }], 1);

    const page = runtime.failures({ entityType: "Fragile" });
    expect(page).toEqual({
      failures: [
        {
          seq: 1,
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          entityId: "Fragile/a",
          operation: "explode",
          input: { n: 1 },
          source: "Sender/s",
          code: "operation_failed",
          message: "Fragile/a explode: exploded on 1",
        },
      ],
    });
    expect(runtime.failures()).toEqual(page); // every type's
    const lines = log.at("warn", "operation failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({
      entityId: "Fragile/a",
      operation: "explode",
      kind: "signal",
      code: "operation_failed",
      error: "Fragile/a explode: exploded on 1",
      source: "Sender/s",
    });
    expect(lines[0]!.fields.stack).toMatch(/^Error: exploded on 1\n\s+at explode .*entity-failures\.test\.ts/);
    // Consumed from the mailbox in the same commit: nothing is delivered again after a restart.
    expect(store.localPartitions.flatMap((p) => [...store.readMailbox(p)])).toEqual([]);

    await closeAll(store);
    const again = await open(dir);
    expect(again.runtime.failures({ entityType: "Fragile" })).toEqual(page);
    expect(again.log.at("warn", "operation failed")).toEqual([]);
  });

  it("is kept when the target's schema refuses the input (bad_request), logged without a stack", async () => {
    const { log, runtime } = await open(stores.newDir());
    await sendFailing(runtime, "Fragile/b", "strict", ["seven"], 1);
    expect(runtime.failures().failures).toEqual([
      expect.objectContaining({ entityId: "Fragile/b", operation: "strict", input: "seven", code: "bad_request", message: expect.stringContaining("input rejected by the schema") }),
    ]);
    const [line] = log.at("warn", "operation failed");
    expect(line?.fields).toMatchObject({ entityId: "Fragile/b", code: "bad_request", source: "Sender/s" });
    expect(line?.fields).not.toHaveProperty("stack");
  });
});

describe("a failed operation from a client", () => {
  it("is logged once with its stack but not kept (its caller got the error); a resend answered from its mark is not logged again", async () => {
    const { log, runtime } = await open(stores.newDir());
    const sender = { clientId: "client-1", seq: 1 };
    const first = await signal(runtime, "Fragile/c", "explode", { n: 2 }, sender);
    expect(first).toEqual({ kind: "error", code: "operation_failed", message: "Fragile/c explode: exploded on 2" });
    expect(await signal(runtime, "Fragile/c", "explode", { n: 2 }, sender)).toEqual(first); // the resend
    expect(await call(runtime, "Fragile/c", "explode", { n: 3 })).toMatchObject({ code: "operation_failed" });
    expect(await call(runtime, "Fragile/c", "ok")).toMatchObject({ kind: "result" });

    const lines = log.at("warn", "operation failed");
    expect(lines.map((line) => [line.fields.kind, line.fields.error])).toEqual([
      ["signal", "Fragile/c explode: exploded on 2"],
      ["call", "Fragile/c explode: exploded on 3"],
    ]);
    expect(lines.every((line) => typeof line.fields.stack === "string" && !("source" in line.fields))).toBe(true);
    expect(runtime.failures()).toEqual({ failures: [] });
  });
});

describe("the kept failures", () => {
  it("keep the newest N per entity type (the oldest deleted in the same commit), and number on after a restart", async () => {
    const dir = stores.newDir();
    const { store, runtime } = await open(dir, { maxFailuresPerType: 3 });
    await sendFailing(runtime, "Brittle/x", "explode", [1, 2], 2);
    await sendFailing(runtime, "Fragile/a", "explode", [1, 2, 3, 4, 5].map((n) => ({ n })), 3);
    await readState(runtime, "Fragile/a"); // after the turn that failed them
    expect(runtime.failures({ entityType: "Fragile" }).failures.map((f) => [f.seq, f.input])).toEqual([
      [7, { n: 5 }],
      [6, { n: 4 }],
      [5, { n: 3 }],
    ]);
    expect(store.readDeadLetterAddresses("Fragile")).toHaveLength(3);
    expect(runtime.failures({ entityType: "Brittle" }).failures.map((f) => f.input)).toEqual([2, 1]);

    await closeAll(store);
    const again = await open(dir, { maxFailuresPerType: 3 });
    await sendFailing(again.runtime, "Fragile/other", "explode", [{ n: 6 }], 3);
    await vi.waitFor(() => expect(again.runtime.failures({ entityType: "Fragile" }).failures.map((f) => f.seq)).toEqual([8, 7, 6]));
    expect(again.runtime.failures().failures.map((f) => f.seq)).toEqual([8, 7, 6, 2, 1]);
    expect(again.store.readDeadLetterAddresses("Fragile")).toHaveLength(3);
  });

  it("trim what a larger bound kept before a restart at the type's next failure (all of it with a bound of 0)", async () => {
    const dir = stores.newDir();
    const first = await open(dir);
    await sendFailing(first.runtime, "Fragile/a", "explode", [1, 2, 3].map((n) => ({ n })), 3);
    await closeAll(first.store);
    const smaller = await open(dir, { maxFailuresPerType: 1 });
    expect(smaller.runtime.failures().failures).toHaveLength(3); // until the type fails again
    await sendFailing(smaller.runtime, "Fragile/a", "explode", [{ n: 4 }], 1);
    await vi.waitFor(() => expect(smaller.runtime.failures().failures.map((f) => f.seq)).toEqual([4]));
    await closeAll(smaller.store);
    const none = await open(dir, { maxFailuresPerType: 0 });
    expect(await call(none.runtime, "Sender/s", "send", { to: "Fragile/b", op: "explode", inputs: [{ n: 5 }] })).toMatchObject({ kind: "result" });
    await vi.waitFor(() => expect(none.runtime.failures()).toEqual({ failures: [] }));
  });

  it("are listed in pages: `limit`, and `next` as `before`", async () => {
    const { runtime } = await open(stores.newDir());
    await sendFailing(runtime, "Fragile/p", "explode", [1, 2, 3, 4, 5].map((n) => ({ n })), 5);
    const first = runtime.failures({ entityType: "Fragile", limit: 2 });
    expect(first.failures.map((f) => f.seq)).toEqual([5, 4]);
    expect(first.next).toBe(4);
    const second = runtime.failures({ entityType: "Fragile", limit: 2, before: first.next });
    expect(second.failures.map((f) => f.seq)).toEqual([3, 2]);
    const last = runtime.failures({ entityType: "Fragile", limit: 2, before: second.next });
    expect(last).toEqual({ failures: [expect.objectContaining({ seq: 1 })] });
  });

  it("keep a large input as its size only, and none at all with maxFailuresPerType 0 (still logged)", async () => {
    const big = { text: "x".repeat(70 * 1024) };
    const kept = await open(stores.newDir());
    await sendFailing(kept.runtime, "Fragile/big", "explode", [big], 1);
    const [failure] = kept.runtime.failures().failures;
    expect(failure).not.toHaveProperty("input");
    expect(failure?.inputBytes).toBe(JSON.stringify(big).length);

    const none = await open(stores.newDir(), { maxFailuresPerType: 0 });
    expect(await call(none.runtime, "Sender/s", "send", { to: "Fragile/n", op: "explode", inputs: [{ n: 1 }] })).toMatchObject({ kind: "result" });
    await vi.waitFor(() => expect(none.log.at("warn", "operation failed")).toHaveLength(1));
    expect(none.runtime.failures()).toEqual({ failures: [] });
  });
});
