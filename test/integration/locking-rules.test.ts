import { afterEach, describe, expect, it } from "vitest";
import { connect, type DurableClient, type InstanceStatus } from "../../clients/index.js";
import * as app from "../fixtures/locking-rules-app.js";
import type { BreakRule, Rule } from "../fixtures/locking-rules-app.js";
import { createLogger } from "../../src/log.js";
import { startTestServer } from "./support/test-server.js";
import { until } from "./support/until.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const WAIT = { timeoutMs: 20_000 };

/** Each rule, and the start of the message its violation gives (the rest names the call and the locked set). */
const RULES: Array<[Rule, string]> = [
  ["nested lock", 'locking rules violation: no nested lock: ctx.lock(["Box/c"]) was called while the orchestration holds a lock on ["Box/a", "Box/b"]; release it first'],
  ["call outside", 'locking rules violation: no call to an entity outside the locked set: callEntity("Box/c", "add") inside the critical section on ["Box/a", "Box/b"]'],
  ["sub-orchestration", 'locking rules violation: no sub-orchestration: callSubOrchestration("Child") inside the critical section on ["Box/a", "Box/b"]; start it after the release'],
  ["signal to locked", 'locking rules violation: no signal to a locked entity: signalEntity("Box/b", "add") inside the critical section that locks it'],
];

describe("locking rules and critical sections, end to end through the client", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(): Promise<{ server: TestServer; client: DurableClient }> {
    const server = await startTestServer("uws", { app, log: createLogger("error") });
    cleanups.push(() => server.stop());
    const client = await connect(server.url);
    cleanups.push(() => client.close());
    return { server, client };
  }

  const lockOf = (server: TestServer, id: string) => server.runtime.pipeline.store.readEntity(id)?.lock;

  async function statusUntil(client: DurableClient, id: string, accept: (status: InstanceStatus | null) => boolean): Promise<InstanceStatus | null> {
    let status: InstanceStatus | null = null;
    const deadline = Date.now() + 20_000;
    while (!accept((status = await client.status(id)))) {
      if (Date.now() > deadline) throw new Error(`${id}: status still ${JSON.stringify(status)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return status;
  }

  it("each violation, uncaught, fails its instance with locking_rules_violation and a message naming the rule; the locks are freed", async () => {
    const { server, client } = await setUp();
    const ids = await Promise.all(RULES.map(([rule]) => client.start<typeof BreakRule>("BreakRule", { rule, catchIt: false })));
    for (const [i, [rule, message]] of RULES.entries()) {
      const status = await client.waitForCompletion(ids[i]!, WAIT);
      expect(status.runtimeStatus, rule).toBe("Failed");
      expect(status.failureDetails?.errorType, rule).toBe("locking_rules_violation");
      expect(status.failureDetails?.message.startsWith(message), `${rule}: ${status.failureDetails?.message}`).toBe(true);
    }
    // Nothing the rule forbade happened (no Box/c, no signal applied to Box/b, no Child started), and the boxes are free.
    expect(await client.get("Box/c")).toBeNull();
    expect(await client.get("Box/b")).toBeNull();
    expect((await client.list({ runtimeStatus: ["Running", "Completed", "Failed", "Pending"] })).instances.map((instance) => instance.name).sort()).toEqual(RULES.map(() => "BreakRule"));
    await until(() => lockOf(server, "Box/a") === undefined && lockOf(server, "Box/b") === undefined, 10_000);
    expect(await client.call("Box/b", "add", 5)).toBe(5); // nothing waits for a lock any more
  });

  it("each violation, caught, is a LockingRulesViolation the code can read; the section goes on, and after the release the same things are allowed", async () => {
    const { server, client } = await setUp();
    for (const [rule, message] of RULES) {
      const id = await client.start<typeof BreakRule>("BreakRule", { rule, catchIt: true });
      const status = await client.waitForCompletion<typeof BreakRule>(id, WAIT);
      expect(status.runtimeStatus, `${rule} ${JSON.stringify(status.failureDetails)}`).toBe("Completed");
      const output = status.runtimeStatus === "Completed" ? status.output : undefined;
      expect(output).toMatchObject({
        name: "LockingRulesViolation",
        code: "locking_rules_violation",
        rule: message.split(": ")[1],
        lockedInside: { locked: true, entities: ["Box/a", "Box/b"] },
        lockedAfter: { locked: false, entities: [] },
        child: "child done",
      });
      expect(output?.message?.startsWith(message), output?.message).toBe(true);
    }
    // Box/a: one call inside each section; Box/c: one call after each release; Box/b: one signal after each release.
    expect(await client.get("Box/a")).toEqual({ value: RULES.length, log: [] });
    expect(await client.get("Box/c")).toEqual({ value: RULES.length, log: [] });
    await until(() => (server.runtime.pipeline.store.readEntity("Box/b")?.state as { value: number } | undefined)?.value === RULES.length, 10_000);
    // The last release (of the nested lock on Box/c after the section) leaves with the completion: applied soon after.
    await until(() => ["Box/a", "Box/b", "Box/c"].every((id) => lockOf(server, id) === undefined), 10_000);
  });

  it("the holder's own calls go through while others' signals and calls wait, in order, until the release; reads do not wait", async () => {
    const { server, client } = await setUp();
    const reader = await connect(server.url);
    cleanups.push(() => reader.close());
    const id = await client.start("HoldAndLog", { entity: "Box/q", after: true });
    await statusUntil(client, id, (status) => status?.customStatus === "holding");

    const done: string[] = [];
    const track = <T>(name: string, promise: Promise<T>) => promise.then((value) => (done.push(name), value));
    const waiting = [
      track("other-1", client.signal("Box/q", "log", "other-1")),
      track("other-2", client.signal("Box/q", "log", "other-2")),
      track("other-call", client.call<number>("Box/q", "log", "other-call")),
    ];
    // A read on another connection is answered at once, with only what the holder did.
    expect(await reader.get("Box/q")).toEqual({ value: 0, log: ["holder-1"] });
    // Sent after them on the same connection: by the time it is durable, they have reached the entity and wait.
    await client.raiseEvent(id, "go");
    expect(done, "nothing answered before the release").toEqual([]);
    const [, , position] = await Promise.all(waiting);
    expect(position).toBe(5); // the call's answer: its place in the log, after holder-1, holder-2, other-1, other-2

    expect((await client.waitForCompletion(id, WAIT)).runtimeStatus).toBe("Completed");
    // holder-2 was sent after the others and ran first (the holder's call goes through); the others ran in the order sent,
    // and the holder's call after its release queued behind them.
    expect(await reader.get("Box/q")).toEqual({ value: 0, log: ["holder-1", "holder-2", "other-1", "other-2", "other-call", "holder-after-release"] });
    expect(done).toEqual(["other-1", "other-2", "other-call"]);
    expect(lockOf(server, "Box/q")).toBeUndefined();
  });

  it("a lock granted to an instance that had already ended (its request waited behind another holder) is freed once that instance is purged and anything needs the entity", async () => {
    const { server, client } = await setUp();
    const first = await client.start("HoldAndLog", { entity: "Box/p", after: false }, { instanceId: "first" });
    await statusUntil(client, first, (status) => status?.customStatus === "holding");
    // The second asks for Box/p (its request waits behind the first) and is terminated while it waits.
    const second = await client.start("LockOnce", { entity: "Box/p" }, { instanceId: "second" });
    await statusUntil(client, second, (status) => status?.customStatus === "requesting");
    await client.terminate(second, "gave up");
    expect((await client.waitForCompletion(second, WAIT)).runtimeStatus).toBe("Terminated");

    // The first releases: the waiting request of the ended second takes Box/p (nobody is there to release it).
    await client.raiseEvent(first, "go");
    expect((await client.waitForCompletion(first, WAIT)).runtimeStatus).toBe("Completed");
    await until(() => lockOf(server, "Box/p")?.instanceId === "second", 10_000);
    expect(await client.purge(second)).toEqual({ instancesDeleted: 1 });
    expect(lockOf(server, "Box/p")?.instanceId, "still held by the purged instance until something needs Box/p").toBe("second");

    // A client's call needs it: the lock of the purged holder is dropped and the call runs.
    expect(await client.call("Box/p", "log", "after-purge")).toBe(3);
    expect(await client.get("Box/p")).toEqual({ value: 0, log: ["holder-1", "holder-2", "after-purge"] });
    expect(lockOf(server, "Box/p")).toBeUndefined();
    // And an orchestration can lock it again.
    const third = await client.start("LockOnce", { entity: "Box/p" });
    expect((await client.waitForCompletion(third, WAIT)).runtimeStatus).toBe("Completed");
    await until(() => lockOf(server, "Box/p") === undefined, 10_000); // its release leaves with its completion
    expect(await client.get("Box/p")).toEqual({ value: 0, log: ["holder-1", "holder-2", "after-purge", `lock-once ${third}`] });
  });
});
