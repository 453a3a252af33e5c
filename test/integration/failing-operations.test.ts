import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import { defineEntity } from "../../src/runtime/index.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/**
 * An operation that throws on every attempt does not wedge its entity: whoever asked gets the error,
 * the operation is not tried again, and the next operation runs. Through a real server, with many
 * callers at once, and for signals between entities (whose failures nobody waits for: dead letters),
 * also across a restart.
 */

const Brittle = defineEntity("Brittle", {
  initialState: () => ({ bumps: 0 }),
  operations: {
    /** Always throws, after changing the state (which must be rolled back). */
    explode: (ctx, n: number) => {
      ctx.state.bumps += 1_000_000;
      throw new Error(`exploded on ${n}`);
    },
    bump: (ctx) => ++ctx.state.bumps,
    get: (ctx) => ctx.state,
  },
});

/** Sends the target a signal that fails, then one that works, in that order, from one operation. */
const Sender = defineEntity("Sender", {
  initialState: () => 0,
  operations: {
    send: (ctx, input: { to: string; n: number }) => {
      ctx.signalEntity(input.to, "explode", input.n);
      ctx.signalEntity(input.to, "bump");
      return ++ctx.state;
    },
  },
});

const CALLERS = 6;
const ROUNDS = 60;

describe.each(TRANSPORTS)("an operation that throws on every attempt, over %s", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function client(url: string, clientId: string): Promise<DurableClient> {
    const c = await connect(url, { clientId });
    cleanups.push(() => c.close());
    return c;
  }

  it("answers every caller's failing call and signal with operation_failed while the good operations between them all run, in order", async () => {
    const server = await startTestServer(transport, { app: { Brittle } });
    cleanups.push(() => server.stop());
    const callers = await Promise.all(Array.from({ length: CALLERS }, (_, c) => client(server.url, `caller-${c}`)));
    const entity = "Brittle/shared";

    // Each caller interleaves, without waiting: a failing call, a good call, a failing signal, a good signal.
    const outcomes = callers.map((caller, c) => {
      const failures: Array<Promise<unknown>> = [];
      const calls: Array<Promise<number>> = [];
      const signals: Array<Promise<void>> = [];
      for (let round = 0; round < ROUNDS; round++) {
        const n = c * 1_000 + round;
        failures.push(caller.call(entity, "explode", n).then((value) => ({ unexpectedly: value }), (error: unknown) => error));
        calls.push(caller.call<number>(entity, "bump"));
        failures.push(caller.signal(entity, "explode", -n).then(() => ({ unexpectedly: "acknowledged" }), (error: unknown) => error));
        signals.push(caller.signal(entity, "bump"));
      }
      return { failures: Promise.all(failures), calls: Promise.all(calls), signals: Promise.all(signals) };
    });

    for (const [c, outcome] of outcomes.entries()) {
      const failures = (await outcome.failures) as Array<{ code?: string; message?: string }>;
      expect(failures).toHaveLength(2 * ROUNDS);
      failures.forEach((failure, i) => {
        const n = (i % 2 === 0 ? 1 : -1) * (c * 1_000 + Math.floor(i / 2));
        expect(failure).toMatchObject({ code: "operation_failed", message: `${entity} explode: exploded on ${n}` });
        expect(failure.message).not.toMatch(/\n\s*at /);
      });
      const results = await outcome.calls;
      // One caller's calls run in the order sent: its results increase (other callers' bumps fall between them).
      expect(results.every((value, i) => i === 0 || value > results[i - 1]!), `caller ${c}'s bumps in order: ${results.join(",")}`).toBe(true);
      await outcome.signals;
    }
    const total = CALLERS * ROUNDS * 2; // a good call and a good signal per round
    expect(await callers[0]!.get(entity)).toEqual({ bumps: total }); // every failed operation's change rolled back
    expect(await callers[1]!.call(entity, "bump")).toBe(total + 1); // and the entity goes on
  });

  it("keeps a signal between entities that throws as a failure (not retried), runs the good signal sent after it, and stays so across a restart", async () => {
    const dir = tempDataDir();
    cleanups.push(dir.cleanup);
    const app = { Brittle, Sender };
    let server = await startTestServer(transport, { app, dataDir: dir.path });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : server.stop()));
    const sender = await client(server.url, "sender");
    const SENDS = 25;
    for (let n = 1; n <= SENDS; n++) expect(await sender.call("Sender/s", "send", { to: "Brittle/dl", n })).toBe(n);

    // Each send's failing signal is followed, in its mailbox, by a good one: all of those run.
    await expect.poll(async () => (await sender.get<{ bumps: number }>("Brittle/dl"))?.bumps, { timeout: 15_000 }).toBe(SENDS);
    const { failures } = await sender.failures({ entityType: "Brittle", limit: 1000 });
    expect(failures.map((f) => [f.entityId, f.operation, f.input, f.source, f.code])).toEqual(
      Array.from({ length: SENDS }, (_, i) => ["Brittle/dl", "explode", SENDS - i, "Sender/s", "operation_failed"]),
    );
    expect(await sender.call("Brittle/dl", "bump")).toBe(SENDS + 1);

    // After a restart the failed signals are not run again, and the entity still takes work.
    await sender.close();
    await server.stop();
    stopped = true;
    server = await startTestServer(transport, { app, dataDir: dir.path });
    stopped = false;
    const after = await client(server.url, "after-restart");
    expect(await after.call("Brittle/dl", "bump")).toBe(SENDS + 2);
    expect((await after.failures({ entityType: "Brittle", limit: 1000 })).failures).toHaveLength(SENDS);
    expect(await after.call("Sender/s", "send", { to: "Brittle/dl", n: SENDS + 1 })).toBe(SENDS + 1);
    await expect.poll(async () => (await after.get<{ bumps: number }>("Brittle/dl"))?.bumps, { timeout: 15_000 }).toBe(SENDS + 3);
    expect((await after.failures({ entityType: "Brittle", limit: 1000 })).failures).toHaveLength(SENDS + 1);
  });
});
