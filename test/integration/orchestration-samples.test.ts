import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../clients/index.js";
import * as demo from "../../src/demo/app.js";
import type { CounterActor, FanOutFanIn, HelloSequence, OrderSaga, PlaceOrder, RetryDemo } from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { ManualClock } from "./support/manual-clock.js";
import { startTestServer } from "./support/test-server.js";

const WAIT = { timeoutMs: 20_000 };
const HOUR_MS = 60 * 60 * 1000;

/** Every sample of the demo app, end to end against a real server, through the client. */
describe("the demo app's orchestrations", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(clock?: ManualClock): Promise<DurableClient> {
    // RetryDemo's failing attempts log warnings; keep the test output quiet.
    const server = await startTestServer("uws", { app: demo, log: createLogger("error"), ...(clock ? { clock } : {}) });
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    cleanups.push(() => client.close());
    return client;
  }

  /** Advances the manual clock until `done` holds (each step lets the server's turns run). */
  async function advanceUntil(clock: ManualClock, stepMs: number, done: () => Promise<boolean>): Promise<void> {
    for (let step = 0; step < 500; step++) {
      if (await done()) return;
      clock.advance(stepMs);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error("the instance did not get there");
  }

  it("HelloSequence chains three activities", async () => {
    const client = await open();
    const id = await client.start<typeof HelloSequence>("HelloSequence");
    const done = await client.waitForCompletion<typeof HelloSequence>(id, WAIT);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual(["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
  });

  it("PlaceOrder chains the four order activities and returns the tracking number", async () => {
    const client = await open();
    const id = await client.start<typeof PlaceOrder>("PlaceOrder", { orderId: "o-42", items: [{ sku: "book", quantity: 2 }] });
    const done = await client.waitForCompletion<typeof PlaceOrder>(id, WAIT);
    expect(done.runtimeStatus).toBe("Completed");
    expect(typeof done.output === "string" && done.output.length > 0).toBe(true);
    const names = (await client.history(id)).filter((event) => event.type === "TaskScheduled").map((event) => (event as { name: string }).name);
    expect(names).toEqual(["CheckAndReserveInventory", "ProcessPayment", "ScheduleShipping", "EmailCustomer"]);
  });

  it("FanOutFanIn squares 1..n in parallel and sums them (2870 for 20)", async () => {
    const client = await open();
    const id = await client.start<typeof FanOutFanIn>("FanOutFanIn", 20);
    expect((await client.waitForCompletion<typeof FanOutFanIn>(id, WAIT)).output).toBe(2870);
  });

  it("Monitor polls on a durable timer until the job completes, then alerts; or expires", async () => {
    const clock = new ManualClock();
    const client = await open(clock);
    const completes = await client.start("Monitor", { jobId: "job-1", pollSeconds: 60, expirySeconds: 3600, completeAfterPolls: 3 });
    const expires = await client.start("Monitor", { jobId: "job-2", pollSeconds: 60, expirySeconds: 150, completeAfterPolls: 99 });
    const finished = async (id: string) => (await client.status(id))?.runtimeStatus === "Completed";
    await advanceUntil(clock, 60_000, async () => (await finished(completes)) && (await finished(expires)));
    expect((await client.status(completes))?.output).toEqual({ polls: 3, status: "Completed" });
    // How many polls fit before expiry depends on when each turn ran against the moving clock: at most three.
    expect((await client.status(expires))?.output).toMatchObject({ status: "Expired", polls: expect.toSatisfy((polls: number) => polls >= 1 && polls <= 3) });
    const alerts = (await client.history(completes)).filter((event) => event.type === "TaskScheduled" && (event as { name: string }).name === "SendAlert");
    expect(alerts).toHaveLength(1);
  });

  it("ApprovalWorkflow: the event wins and is processed; with no event, the 72-hour timer escalates (time injected)", async () => {
    const clock = new ManualClock();
    const client = await open(clock);
    const approved = await client.start("ApprovalWorkflow", null);
    const escalated = await client.start("ApprovalWorkflow", {});
    await client.raiseEvent(approved, "ApprovalEvent", { by: "ana" });
    expect((await client.waitForCompletion(approved, WAIT)).output).toEqual({ approved: { by: "ana" } });
    expect((await client.status(escalated))?.runtimeStatus).toBe("Running");
    clock.advance(71 * HOUR_MS);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await client.status(escalated))?.runtimeStatus).toBe("Running"); // not yet
    clock.advance(HOUR_MS);
    expect((await client.waitForCompletion(escalated, WAIT)).output).toEqual({ escalated: true });
  });

  it("CounterActor counts the operations raised to it, across continue-as-new, and ends with the value", async () => {
    const client = await open();
    const id = await client.start<typeof CounterActor>("CounterActor", 10);
    for (const operation of ["incr", "incr", "decr", "incr"]) await client.raiseEvent(id, "operation", operation);
    await expect.poll(async () => (await client.status(id))?.customStatus, { timeout: 10_000 }).toBe(12);
    await client.raiseEvent(id, "operation", "end");
    const done = await client.waitForCompletion<typeof CounterActor>(id, WAIT);
    expect(done.output).toBe(12);
  });

  // 10,000 durable events: about 15 s on a quiet machine, longer on a loaded one (the conformance run
  // commits each tick through a NATS log), so the test waits long rather than fail on a busy machine.
  it("CounterActor takes 10,000 events and keeps its history bounded through continue-as-new", { timeout: 300_000 }, async () => {
    const client = await open();
    const id = await client.start<typeof CounterActor>("CounterActor", 0);
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => client.raiseEvent(id, "operation", i % 4 === 3 ? "decr" : "incr")));
    await client.raiseEvent(id, "operation", "end");
    const done = await client.waitForCompletion<typeof CounterActor>(id, { timeoutMs: 280_000 });
    expect(done.output).toBe(5_000); // 7,500 incr, 2,500 decr
    const history = await client.history(id);
    expect(history.length).toBeLessThan(20); // only the last execution's events are kept
    expect(history.filter((event) => event.type === "ExecutionStarted")).toMatchObject([{ input: 5_000 }]);
  });

  it("RetryDemo retries its flaky activity until it succeeds", async () => {
    const client = await open();
    const id = await client.start<typeof RetryDemo>("RetryDemo", { failTimes: 2 });
    expect((await client.waitForCompletion<typeof RetryDemo>(id, WAIT)).output).toEqual({ attempts: 3 });
    const history = await client.history(id);
    expect(history.filter((event) => event.type === "TaskFailed")).toHaveLength(2);
    expect(history.filter((event) => event.type === "TimerCreated")).toHaveLength(2); // the waits between attempts are durable timers
  });

  it("OrderSaga places every order as a sub-orchestration, in parallel, and returns the tracking numbers in input order", async () => {
    const client = await open();
    const orders = ["a", "b", "c"].map((orderId) => ({ orderId, items: [{ sku: "pen", quantity: 1 }] }));
    const id = await client.start<typeof OrderSaga>("OrderSaga", orders);
    const done = await client.waitForCompletion<typeof OrderSaga>(id, WAIT);
    const single = await Promise.all(orders.map(async (order) => client.waitForCompletion<typeof PlaceOrder>(await client.start<typeof PlaceOrder>("PlaceOrder", order), WAIT)));
    expect(done.output).toEqual(single.map((status) => status.output));
    const children = (await client.history(id)).filter((event) => event.type === "SubOrchestrationInstanceCreated");
    expect(children).toHaveLength(3);
  });
});
