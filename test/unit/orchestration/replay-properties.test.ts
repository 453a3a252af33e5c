import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineOrchestration, replay, type OrchestrationContext, type Task } from "../../../src/orchestration/index.js";
import { TestHost, type Arrival } from "./support/test-host.js";

type Op =
  | { readonly op: "call"; readonly name: string }
  | { readonly op: "timer"; readonly ms: number }
  | { readonly op: "wait"; readonly name: string }
  | { readonly op: "all"; readonly names: string[] }
  | { readonly op: "race"; readonly name: string; readonly ms: number }
  | { readonly op: "retry"; readonly name: string }
  | { readonly op: "sub"; readonly name: string }
  | { readonly op: "random" }
  | { readonly op: "guid" }
  | { readonly op: "status" };

const EVENT_NAMES = ["a", "b"];

/** Interprets a script of operations: a random orchestrator for property tests. */
const Script = defineOrchestration("Script", function* (ctx: OrchestrationContext<Op[]>, ops: Op[]) {
  const log: unknown[] = [];
  for (const op of ops) {
    try {
      log.push(yield* run(ctx, op, log.length));
    } catch (error) {
      log.push(`caught ${(error as Error).message}`);
    }
  }
  return log;
});

function* run(ctx: OrchestrationContext<Op[]>, op: Op, step: number): Generator<unknown, unknown, any> {
  const now = ctx.currentUtcDateTime.getTime();
  switch (op.op) {
    case "call":
      return yield ctx.callActivity(op.name, step);
    case "timer":
      yield ctx.createTimer(now + op.ms);
      return "timer";
    case "wait":
      return yield ctx.waitForExternalEvent(op.name);
    case "all":
      return yield ctx.Task.all(op.names.map((name) => ctx.callActivity(name, step)));
    case "race": {
      const event: Task<unknown> = ctx.waitForExternalEvent(op.name);
      const timer = ctx.createTimer(now + op.ms);
      const winner = yield* ctx.Task.any([event, timer]);
      if (winner === timer) return "timeout";
      timer.cancel();
      return event.result;
    }
    case "retry":
      return yield ctx.callActivityWithRetry(op.name, { firstRetryIntervalInMilliseconds: 100, backoffCoefficient: 2, maxNumberOfAttempts: 3 }, step);
    case "sub":
      return yield ctx.callSubOrchestration(op.name, step);
    case "random":
      return [Math.random(), Date.now(), new Date().getTime()];
    case "guid":
      return ctx.newGuid();
    case "status":
      ctx.setCustomStatus({ step });
      return "status";
  }
}

const name = fc.constantFrom("A", "B", "C");
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("call" as const), name }),
  fc.record({ op: fc.constant("timer" as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ op: fc.constant("wait" as const), name: fc.constantFrom(...EVENT_NAMES) }),
  fc.record({ op: fc.constant("all" as const), names: fc.array(name, { maxLength: 4 }) }),
  fc.record({ op: fc.constant("race" as const), name: fc.constantFrom(...EVENT_NAMES), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ op: fc.constant("retry" as const), name }),
  fc.record({ op: fc.constant("sub" as const), name }),
  fc.constant({ op: "random" as const }),
  fc.constant({ op: "guid" as const }),
  fc.constant({ op: "status" as const }),
);

/** Plays random turns: some open tasks complete or fail, some timers fire, some events arrive. */
function playRandomly(host: TestHost, choices: number[]): void {
  let c = 0;
  const next = (n: number) => (choices.length === 0 ? 0 : choices[c++ % choices.length]! % n);
  for (let turn = 0; turn < 40 && host.end === undefined; turn++) {
    const arrivals: Arrival[] = [];
    let advance = 1 + next(3000);
    for (const action of host.open.values()) {
      if (next(3) === 0) continue; // not yet
      if (action.type === "ScheduleTask" || action.type === "CreateSubOrchestration") {
        arrivals.push(next(4) === 0 ? host.failed(action.id, { errorType: "Boom", message: `failed ${action.id}` }) : host.completed(action.id, { id: action.id }));
      } else if (action.type === "CreateTimer") {
        arrivals.push(host.fired(action.id));
        advance = Math.max(advance, action.fireAt - host.nowMs);
      }
    }
    const events = next(3);
    for (let i = 0; i < events; i++) arrivals.push(host.raised(EVENT_NAMES[next(EVENT_NAMES.length)]!, next(100)));
    // Shuffle the arrivals a little: completions come in any order.
    if (arrivals.length > 1 && next(2) === 0) arrivals.push(arrivals.shift()!);
    host.turn(arrivals, advance);
  }
}

describe("replay properties", () => {
  it("a cached executor and a fresh replay agree at every turn, for random orchestrators and random deliveries", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 8 }), (ops, choices, instanceId) => {
        const host = new TestHost(Script, { instanceId }); // checks cached == fresh at every turn
        host.start(ops);
        playRandomly(host, choices);
        // The whole recorded history, replayed from scratch, ends the same way.
        const again = replay({ instanceId, definition: Script, past: host.history, newEvents: [] });
        expect(again.end).toEqual(host.end);
        expect(again.customStatus).toEqual(host.last.customStatus);
      }),
      { numRuns: 150 },
    );
  });

  it("a replay of any turn prefix asks for exactly what that turn asked for", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { minLength: 1, maxLength: 32 }), (ops, choices) => {
        const host = new TestHost(Script, { instanceId: "p" });
        host.start(ops);
        playRandomly(host, choices);
        const starts = host.history.flatMap((event, index) => (event.type === "OrchestratorStarted" ? [index] : []));
        starts.forEach((start, i) => {
          const end = starts[i + 1] ?? host.history.length;
          const incoming = host.history.slice(start, end).filter((e) => !["TaskScheduled", "TimerCreated", "SubOrchestrationInstanceCreated", "OrchestratorCompleted", "ExecutionCompleted"].includes(e.type));
          const result = replay({ instanceId: "p", definition: Script, past: host.history.slice(0, start), newEvents: incoming });
          expect(result.actions, `turn ${i}`).toEqual(host.results[i]!.actions);
          expect(result.end, `turn ${i}`).toEqual(host.results[i]!.end);
        });
      }),
      { numRuns: 100 },
    );
  });
});
