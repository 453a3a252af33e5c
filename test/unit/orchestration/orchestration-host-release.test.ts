import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { defineOrchestration, OrchestrationHost, type InstanceChange } from "../../../src/orchestration/index.js";
import { CommitPipeline, TimerService, type Clock, type Outcome } from "../../../src/runtime/index.js";
import type { LmdbStore, WriteBatch } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

const Waits = defineOrchestration("Waits", function* (ctx) {
  return yield ctx.waitForExternalEvent("go");
});

/** A store whose commits wait until the test lets them through, one by one. */
function slowCommits(store: LmdbStore): { store: LmdbStore; release(): void; waiting(): number } {
  const held: Array<() => void> = [];
  const slow = Object.create(store) as LmdbStore;
  slow.commit = (batch: WriteBatch) => new Promise<void>((resolve, reject) => held.push(() => store.commit(batch).then(resolve, reject)));
  return { store: slow, release: () => held.shift()?.(), waiting: () => held.length };
}

describe("OrchestrationHost releases", () => {
  it("tell watchers the status each turn committed, even when a later turn changed the instance before the release", async () => {
    const real = await stores.openStore(stores.newDir());
    const { store, release, waiting } = slowCommits(real);
    const pipeline = new CommitPipeline({ store, log: createLogger("silent") });
    const host = new OrchestrationHost({ pipeline, orchestrations: [Waits], activities: [], log: createLogger("silent") });
    pipeline.start();
    const pushed: Array<string | undefined> = [];
    host.onChange((changes: readonly InstanceChange[]) => pushed.push(...changes.map((change) => change.status?.runtimeStatus)));
    const answer = (kind: "start" | "suspend" | "resume") =>
      new Promise<Outcome>((resolve) => {
        const replyTo = { deliver: (_id: number, outcome: Outcome) => resolve(outcome) };
        if (kind === "start") host.submit({ kind, instanceId: "w", name: "Waits", depth: 0, replyTo, requestId: 1 });
        else host.submit({ kind, instanceId: "w", replyTo, requestId: 1 });
      });
    const started = answer("start");
    await until(() => waiting() === 1);
    release();
    await started;
    const suspended = answer("suspend");
    await until(() => waiting() === 1); // the suspend's turn is committing…
    const resumed = answer("resume");
    await until(() => waiting() === 2); // …and the resume's turn ran before the suspend was released
    release();
    await suspended;
    release();
    await resumed;
    expect(pushed).toEqual(["Running", "Suspended", "Running"]);
    await pipeline.close();
  });
});

describe("TimerService", () => {
  it("arms the clock at most a minute ahead, so a wall clock that steps forward is noticed", async () => {
    const store = await stores.openStore(stores.newDir(), 1);
    const batch = store.newBatch();
    batch.putTimer({ fireAt: Date.now() + 3_600_000, instanceId: "i", timerId: 0 }, {});
    await store.commit(batch);
    const armed: number[] = [];
    const clock: Clock = { now: () => Date.now(), setTimer: (_fn, ms) => armed.push(ms), clearTimer: () => {} };
    const timers = new TimerService(store, clock, () => {}, createLogger("silent"));
    timers.start();
    expect(armed).toEqual([60_000]);
    timers.stop();
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  expect(condition()).toBe(true);
}
