import { describe, expect, it } from "vitest";
import { defineActivity, defineOrchestration, isTaskFailedError, TaskFailedError } from "../../../src/orchestration/index.js";
import { TestHost } from "./support/test-host.js";

const Child = defineOrchestration("Child", function* (ctx, n: number) {
  return (yield ctx.callActivity("Double", n)) as number;
});
const Double = defineActivity("Double", (n: number) => n * 2);

describe("sub-orchestrations", () => {
  it("by name or definition: a child instance id derived from the parent's, or the one given; the output comes back", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      const a = yield ctx.callSubOrchestration("Child", 1);
      const b = yield ctx.callSubOrchestration(Child, 2, "my-child");
      const c = yield* ctx.call(Child, 3, { instanceId: "typed-child" });
      const d = yield* ctx.call(Child, 4);
      return [a, b, c, d];
    });
    const host = new TestHost(Parent, { instanceId: "order-7" });
    const ids: string[] = [];
    let result = host.start();
    while (result.end === undefined) {
      const create = result.actions.find((a) => a.type === "CreateSubOrchestration")!;
      ids.push(create.instanceId);
      result = host.turn([host.completed(create.id, (create.input as number) * 10)]);
    }
    expect(ids).toEqual(["order-7:0", "my-child", "typed-child", "order-7:3"]);
    expect(result.end).toEqual({ status: "Completed", output: [10, 20, 30, 40] });
  });

  it("in a later execution (after continue-as-new) the derived ids carry the generation, so they do not collide", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      return yield ctx.callSubOrchestration(Child, 1);
    });
    const host = new TestHost(Parent, { instanceId: "p", generation: 3 });
    expect(host.start().actions).toEqual([{ type: "CreateSubOrchestration", id: 0, name: "Child", instanceId: "p:3:0", input: 1 }]);
  });

  it("a child's failure is thrown at the yield as a SubOrchestrationFailed TaskFailedError", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      try {
        yield ctx.callSubOrchestration("Child", 1);
      } catch (error) {
        if (!isTaskFailedError(error)) throw error;
        return { name: error.name, taskName: error.taskName, message: error.message, inner: error.failure, details: error.details, isClass: error instanceof TaskFailedError };
      }
      return "no error";
    });
    const host = new TestHost(Parent);
    host.start();
    const failure = { errorType: "ActivityFailed", message: 'activity "Double" failed: overflow', taskName: "Double", details: { max: 10 } };
    expect(host.turn([host.failed(0, failure)]).end).toEqual({
      status: "Completed",
      output: { name: "SubOrchestrationFailed", taskName: "Child", message: 'sub-orchestration "Child" failed: activity "Double" failed: overflow', inner: failure, details: { max: 10 }, isClass: true },
    });
  });

  it("an unhandled child failure fails the parent with the task's name and the inner failure", () => {
    const Parent = defineOrchestration("Parent", function* (ctx) {
      yield ctx.callSubOrchestration("Child", 1);
    });
    const host = new TestHost(Parent);
    host.start();
    expect(host.turn([host.failed(0, { errorType: "Error", message: "boom" })]).end).toEqual({
      status: "Failed",
      failure: { errorType: "SubOrchestrationFailed", message: 'sub-orchestration "Child" failed: boom', taskName: "Child", inner: { errorType: "Error", message: "boom" } },
    });
  });

  it("the child itself runs on the same executor (its activity typed through call)", () => {
    const host = new TestHost(Child, { parentInstanceId: "parent" });
    host.start(21);
    expect(host.drive({ Double: (n: number) => Double.run(n, { activityName: "Double", instanceId: "x", attempt: 1 }) }).end).toEqual({ status: "Completed", output: 42 });
  });

  it("call() refuses an instance id for an activity, and anything that is not a definition", () => {
    const Misuse = defineOrchestration("Misuse", function* (ctx) {
      const errors: string[] = [];
      try {
        ctx.call(Double, 1, { instanceId: "x" });
      } catch (error) {
        errors.push((error as Error).message);
      }
      try {
        ctx.call({ name: "Nope" } as unknown as typeof Double, 1);
      } catch (error) {
        errors.push((error as Error).message);
      }
      return errors;
    });
    expect(new TestHost(Misuse).start().end).toEqual({
      status: "Completed",
      output: ['call(Double): instanceId is for sub-orchestrations, and "Double" is an activity', "call takes what defineActivity or defineOrchestration returned"],
    });
  });
});
