import { describe, expect, it } from "vitest";
import { defineOrchestration, replay, ReplayExecutor, type HistoryEvent, type OrchestrationDefinition } from "../../../src/orchestration/index.js";
import { json, TestHost } from "./support/test-host.js";

const Original = defineOrchestration("Move", function* (ctx) {
  ctx.signalEntity("Audit/log", "start");
  const lock = yield* ctx.lock(["Account/a", "Account/b"]);
  const balance: number = yield ctx.callEntity("Account/a", "get");
  yield ctx.callEntity("Account/b", "deposit", balance);
  lock.release();
  return balance;
});

/** The history of Original up to the deposit's answer (lock granted, get answered), and that answer. */
function recorded(): { past: HistoryEvent[]; newEvents: HistoryEvent[] } {
  const host = new TestHost(Original, { instanceId: "move-1" });
  host.start();
  host.turn([host.lockGranted(1)]);
  host.turn([host.entityResult(2, 10)]);
  const at = host.nowMs + 1000;
  return { past: json(host.history), newEvents: [{ type: "OrchestratorStarted", timestamp: at }, { type: "EventRaised", timestamp: at, name: "@entity:3", input: { result: 20 } }] };
}

function replayWith(definition: OrchestrationDefinition) {
  const { past, newEvents } = recorded();
  return replay({ instanceId: "move-1", definition, past, newEvents });
}

function mismatch(definition: OrchestrationDefinition): string {
  const result = replayWith(definition);
  expect(result.end).toMatchObject({ status: "Failed", failure: { errorType: "non_determinism" } });
  expect(result.actions).toEqual([]);
  return (result.end as { failure: { message: string } }).failure.message;
}

const variant = (body: (ctx: Parameters<typeof Original.orchestrator>[0]) => Generator<unknown, unknown, any>) => defineOrchestration("Move", body);

describe("replaying entity calls, signals and locks", () => {
  it("the unchanged code replays and goes on: it releases and completes", () => {
    expect(replayWith(Original)).toEqual({ actions: [{ type: "ReleaseLocks", id: 4, entityIds: ["Account/a", "Account/b"] }], end: { status: "Completed", output: 10 }, customStatus: undefined, openTasks: 0, locks: [] });
  });

  it("a changed operation, entity, kind, or lock set is non-deterministic, named in the message", () => {
    const otherOperation = variant(function* (ctx) {
      ctx.signalEntity("Audit/log", "start");
      const lock = yield* ctx.lock(["Account/a", "Account/b"]);
      yield ctx.callEntity("Account/a", "balance");
      lock.release();
    });
    expect(mismatch(otherOperation)).toContain(
      'non-deterministic orchestration "Move" at history position 7: the history records operation "get" of entity "Account/a" (callEntity) as action 2, but the orchestrator now asks for operation "balance" of entity "Account/a" (callEntity) as action 2.',
    );
    const otherEntity = variant(function* (ctx) {
      ctx.signalEntity("Audit/log", "start");
      yield* ctx.lock(["Account/a", "Account/b"]);
      yield ctx.callEntity("Account/b", "get");
    });
    expect(mismatch(otherEntity)).toContain('records operation "get" of entity "Account/a" (callEntity) as action 2, but the orchestrator now asks for operation "get" of entity "Account/b" (callEntity) as action 2');
    const signalInstead = variant(function* (ctx) {
      ctx.callEntity("Audit/log", "start");
      yield ctx.createTimer(0);
    });
    expect(mismatch(signalInstead)).toContain('records a signal "start" to entity "Audit/log" (signalEntity) as action 0, but the orchestrator now asks for operation "start" of entity "Audit/log" (callEntity) as action 0');
    const otherSet = variant(function* (ctx) {
      ctx.signalEntity("Audit/log", "start");
      yield ctx.lock(["Account/a", "Account/c"]);
    });
    expect(mismatch(otherSet)).toContain('records a lock on "Account/a", "Account/b" (lock) as action 1, but the orchestrator now asks for a lock on "Account/a", "Account/c" (lock) as action 1');
    const noRelease = variant(function* (ctx) {
      ctx.signalEntity("Audit/log", "start");
      yield* ctx.lock(["Account/a", "Account/b"]);
      const balance: number = yield ctx.callEntity("Account/a", "get");
      yield ctx.callEntity("Account/b", "deposit", balance);
      yield ctx.callActivity("Report");
    });
    expect(replayWith(noRelease).actions).toEqual([{ type: "ScheduleTask", id: 4, name: "Report" }]); // the release was never recorded: new code may differ there
  });

  it("the input and a signal's time are not compared (as for activities)", () => {
    const otherInput = variant(function* (ctx) {
      ctx.signalEntity("Audit/log", "start", { v: 2 }, { at: 5 });
      const lock = yield* ctx.lock(["Account/b", "Account/a"]);
      yield ctx.callEntity("Account/a", "get", "extra");
      yield ctx.callEntity("Account/b", "deposit", -1);
      lock.release();
      return 0;
    });
    expect(replayWith(otherInput).end).toEqual({ status: "Completed", output: 0 });
  });

  it("an entity request never matches an event sent to an instance at the same id", () => {
    const host = new TestHost(defineOrchestration("Sender", function* (ctx) {
      yield ctx.callEntity("Account/a", "get");
    }));
    host.start();
    const past = host.history.map((e) => (e.type === "EventSent" ? (({ entityRequest, ...rest }) => rest)(e) : e));
    const result = replay({ instanceId: host.instanceId, definition: host.definition, past, newEvents: [{ type: "OrchestratorStarted", timestamp: host.nowMs + 1 }] });
    expect(result.end).toMatchObject({ failure: { errorType: "non_determinism", message: expect.stringContaining('records event "get" sent to "Account/a" as action 0, but the orchestrator now asks for operation "get" of entity "Account/a" (callEntity)') } });
  });

  it("after a mismatch, the locks reported are those the history holds (even past the mismatch), for the host to release", () => {
    const changedEarly = variant(function* (ctx) {
      ctx.signalEntity("Audit/other", "start");
      yield ctx.createTimer(0);
    });
    expect(replayWith(changedEarly).locks).toEqual(["Account/a", "Account/b"]);
    const { past } = recorded();
    const released = [...past, { type: "EventSent", timestamp: 0, eventId: 4, instanceId: "Account/a", name: "release", input: ["Account/a", "Account/b"], entityRequest: "release" } as HistoryEvent];
    expect(replay({ instanceId: "move-1", definition: changedEarly, past: released, newEvents: [] }).locks).toEqual([]);
  });

  it("a cached executor and a fresh replay agree at every turn, and a cached executor checks recorded events it is given", () => {
    const { past, newEvents } = recorded();
    const cached = new ReplayExecutor("move-1", Original);
    cached.run(past.slice(0, 4), []);
    const result = cached.advance([...past.slice(4), ...newEvents]);
    expect(json(result)).toEqual(json(replayWith(Original)));
  });
});
