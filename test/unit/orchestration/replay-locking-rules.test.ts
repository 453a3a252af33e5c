import { describe, expect, it } from "vitest";
import { defineOrchestration, isLockingRulesViolationError, LockingRulesViolationError, type OrchestrationContext } from "../../../src/orchestration/index.js";
import { TestHost } from "./support/test-host.js";

// Every TestHost turn also replays the whole history on a fresh executor and checks it agrees with the cached one.

const Child = defineOrchestration("Child", function* () {
  return 1;
});

/** Each violation, with the message it must give (inside a section on Account/a and Account/b). */
const violations: Array<[string, (ctx: OrchestrationContext) => unknown, string]> = [
  ["nested lock", (ctx) => ctx.lock(["Account/c"]), 'locking rules violation: no nested lock: ctx.lock(["Account/c"]) was called while the orchestration holds a lock on ["Account/a", "Account/b"]; release it first'],
  [
    "call outside the locked set",
    (ctx) => ctx.callEntity("Account/c", "get"),
    'locking rules violation: no call to an entity outside the locked set: callEntity("Account/c", "get") inside the critical section on ["Account/a", "Account/b"]; lock "Account/c" too, or call it after the release',
  ],
  [
    "call outside the locked set (typed proxy)",
    (ctx) => ctx.entity("Account/c").call.get!(),
    'locking rules violation: no call to an entity outside the locked set: callEntity("Account/c", "get") inside the critical section on ["Account/a", "Account/b"]; lock "Account/c" too, or call it after the release',
  ],
  ["sub-orchestration", (ctx) => ctx.callSubOrchestration("Child"), 'locking rules violation: no sub-orchestration: callSubOrchestration("Child") inside the critical section on ["Account/a", "Account/b"]; start it after the release'],
  ["sub-orchestration (typed)", (ctx) => ctx.call(Child, undefined), 'locking rules violation: no sub-orchestration: call("Child") inside the critical section on ["Account/a", "Account/b"]; start it after the release'],
  [
    "sub-orchestration with retry",
    (ctx) => ctx.callSubOrchestrationWithRetry("Child", { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 2 }),
    'locking rules violation: no sub-orchestration: callSubOrchestrationWithRetry("Child") inside the critical section on ["Account/a", "Account/b"]; start it after the release',
  ],
  [
    "signal to a locked entity",
    (ctx) => ctx.signalEntity("Account/b", "deposit", 1),
    'locking rules violation: no signal to a locked entity: signalEntity("Account/b", "deposit") inside the critical section that locks it; call it instead (yield ctx.callEntity), or signal it after the release',
  ],
];

/** Locks Account/a and Account/b, breaks a rule (caught or not), then goes on inside the section. */
function breaker(breakRule: (ctx: OrchestrationContext) => unknown, catchIt: boolean) {
  return defineOrchestration("Breaker", function* (ctx) {
    const lock = yield* ctx.lock(["Account/a", "Account/b"]);
    let caught: unknown;
    try {
      breakRule(ctx);
    } catch (error) {
      if (!catchIt) throw error;
      caught = error;
    }
    const balance: number = yield ctx.callEntity("Account/a", "get");
    lock.release();
    const e = caught as LockingRulesViolationError;
    return { balance, name: e.name, code: e.code, rule: e.rule, message: e.message, branded: isLockingRulesViolationError(e), isClass: e instanceof LockingRulesViolationError };
  });
}

describe("locking rules: each violation throws at its call", () => {
  it.each(violations)("%s: caught, the code goes on; nothing was asked for", (_rule, breakRule, message) => {
    const host = new TestHost(breaker(breakRule, true));
    host.start();
    expect(host.turn([host.lockGranted(0)]).actions).toEqual([{ type: "CallEntity", id: 1, entityId: "Account/a", operation: "get" }]);
    const end = host.turn([host.entityResult(1, 3)]);
    expect(end.end).toEqual({
      status: "Completed",
      output: { balance: 3, name: "LockingRulesViolation", code: "locking_rules_violation", rule: message.split(": ")[1], message, branded: true, isClass: true },
    });
    expect(end.locks).toEqual([]);
  });

  it.each(violations)("%s: uncaught, it fails the instance with errorType locking_rules_violation (the locks are reported for release)", (_rule, breakRule, message) => {
    const host = new TestHost(breaker(breakRule, false));
    host.start();
    const failed = host.turn([host.lockGranted(0)]);
    expect(failed).toMatchObject({ actions: [], end: { status: "Failed", failure: { errorType: "locking_rules_violation", message } }, locks: ["Account/a", "Account/b"] });
  });

  it("apply while the lock is being acquired too", () => {
    const Early = defineOrchestration("Early", function* (ctx) {
      const pending = ctx.lock(["Account/a"]);
      const messages: string[] = [];
      for (const breakRule of [() => ctx.lock(["Account/b"]), () => ctx.callEntity("Account/b", "get"), () => ctx.signalEntity("Account/a", "add")]) {
        try {
          breakRule();
        } catch (error) {
          messages.push((error as Error).message);
        }
      }
      const inside = ctx.callEntity("Account/a", "get"); // allowed: in the set
      yield pending;
      return { messages, balance: yield inside };
    });
    const host = new TestHost(Early);
    expect(host.start().actions).toEqual([
      { type: "LockEntities", id: 0, entityIds: ["Account/a"] },
      { type: "CallEntity", id: 1, entityId: "Account/a", operation: "get" },
    ]);
    host.turn([host.lockGranted(0)]);
    const output = (host.turn([host.entityResult(1, 4)]).end as { output: { messages: string[]; balance: number } }).output;
    expect(output.balance).toBe(4);
    expect(output.messages).toEqual([
      'locking rules violation: no nested lock: ctx.lock(["Account/b"]) was called while the orchestration is acquiring a lock on ["Account/a"]; release it first',
      expect.stringContaining("no call to an entity outside the locked set"),
      expect.stringContaining("no signal to a locked entity"),
    ]);
  });

  it("allow, inside a section, calls to locked entities, signals to others, activities, timers and events; and everything after the release", () => {
    const Allowed = defineOrchestration("Allowed", function* (ctx) {
      const lock = yield* ctx.lock(["Account/a"]);
      ctx.signalEntity("Audit/log", "record", "in");
      ctx.callActivity("Notify");
      ctx.createTimer(0);
      ctx.waitForExternalEvent("x");
      ctx.callEntity("Account/a", "get");
      lock.release();
      ctx.callEntity("Account/b", "get");
      ctx.signalEntity("Account/a", "add", 1);
      ctx.callSubOrchestration("Child", undefined, "child-1");
      ctx.lock(["Account/c"]);
    });
    const host = new TestHost(Allowed);
    host.start();
    expect(host.turn([host.lockGranted(0)]).actions.map((a) => a.type)).toEqual([
      "SignalEntity",
      "ScheduleTask",
      "CreateTimer",
      "CallEntity",
      "ReleaseLocks",
      "CallEntity",
      "SignalEntity",
      "CreateSubOrchestration",
      "LockEntities",
    ]);
    expect(host.last.locks).toEqual(["Account/c"]);
  });
});
