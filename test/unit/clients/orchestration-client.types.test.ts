import { describe, expectTypeOf, it } from "vitest";
import type {
  DurableClient,
  FailureDetails,
  FinishedInstanceStatus,
  HistoryEvent,
  InstanceStatus,
  InstanceWatch,
  OrchestrationInput,
  OrchestrationOutput,
} from "../../../clients/index.js";
import type { Approval, Doomed, Greetings, Sleeper } from "../../fixtures/orchestration-app.js";
import type { HistoryEvent as ServerHistoryEvent } from "../../../src/orchestration/index.js";
import type { InstanceStatus as ServerInstanceStatus } from "../../../src/orchestration/instance-record.js";

/** Only the types are checked: nothing here runs against a server. */
const client = {} as DurableClient;
const neverRun = (check: () => unknown) => void check;

describe("typed orchestration calls", () => {
  it("reads an orchestration's input and output from its definition", () => {
    expectTypeOf<OrchestrationInput<typeof Greetings>>().toEqualTypeOf<string[]>();
    expectTypeOf<OrchestrationOutput<typeof Greetings>>().toEqualTypeOf<string[]>();
    expectTypeOf<OrchestrationInput<typeof Approval>>().toEqualTypeOf<{ requester: string }>();
    expectTypeOf<OrchestrationOutput<typeof Approval>>().toEqualTypeOf<{ requester: string; approved: boolean }>();
    expectTypeOf<OrchestrationInput<typeof Doomed>>().toEqualTypeOf<unknown>();
    expectTypeOf<OrchestrationOutput<typeof Doomed>>().toEqualTypeOf<string>();
    expectTypeOf<OrchestrationInput<unknown>>().toEqualTypeOf<unknown>();
    expectTypeOf<OrchestrationOutput<"by name">>().toEqualTypeOf<unknown>();
  });

  it("checks start's name and input against a type-only definition, and takes the definition itself", () => {
    neverRun(() => {
      expectTypeOf(client.start<typeof Greetings>("Greetings", ["Tokyo"])).toEqualTypeOf<Promise<string>>();
      void client.start<typeof Greetings>("Greetings", ["Tokyo"], { instanceId: "greet-1" });
      void client.start<typeof Sleeper>("Sleeper", 10);
      void client.start<typeof Doomed>("Doomed"); // its input is unknown: optional
      void client.start("AnythingByName", { any: "input" }, { instanceId: "x" });
      void client.start("AnythingByName");
      // @ts-expect-error Greetings takes string[]
      void client.start<typeof Greetings>("Greetings", "Tokyo");
      // @ts-expect-error Greetings needs its input
      void client.start<typeof Greetings>("Greetings");
      // @ts-expect-error the name must be the definition's
      void client.start<typeof Greetings>("Greeting", ["Tokyo"]);
      // @ts-expect-error Approval takes { requester }
      void client.start<typeof Approval>("Approval", { requestor: "ann" });
      const greetings = {} as typeof Greetings;
      void client.start(greetings, ["Tokyo"]);
      // @ts-expect-error the definition's input type applies
      void client.start(greetings, [1, 2]);
    });
  });

  it("types status, waitForCompletion and watch by the definition", async () => {
    neverRun(async () => {
      const status = await client.status<typeof Greetings>("id");
      expectTypeOf(status).toEqualTypeOf<InstanceStatus<typeof Greetings> | null>();
      if (status?.runtimeStatus === "Completed") expectTypeOf(status.output).toEqualTypeOf<string[]>();
      if (status?.runtimeStatus === "Running") expectTypeOf(status.output).toEqualTypeOf<null>();
      if (status?.runtimeStatus === "Failed") expectTypeOf(status.failureDetails).toEqualTypeOf<FailureDetails>();
      if (status !== null) {
        expectTypeOf(status.input).toEqualTypeOf<string[]>();
        expectTypeOf(status.name).toEqualTypeOf<"Greetings">();
        expectTypeOf(status.failureDetails).toEqualTypeOf<FailureDetails | undefined>();
      }

      const done = await client.waitForCompletion<typeof Approval>("id", { timeoutMs: 1000 });
      expectTypeOf(done).toEqualTypeOf<FinishedInstanceStatus<typeof Approval>>();
      expectTypeOf(done.runtimeStatus).toEqualTypeOf<"Completed" | "Failed" | "Terminated">();
      if (done.runtimeStatus === "Completed") expectTypeOf(done.output).toEqualTypeOf<{ requester: string; approved: boolean }>();
      if (done.runtimeStatus === "Terminated") expectTypeOf(done.output).toEqualTypeOf<unknown>();

      const untyped = await client.waitForCompletion("id");
      if (untyped.runtimeStatus === "Completed") expectTypeOf(untyped.output).toEqualTypeOf<unknown>();
      expectTypeOf(untyped.name).toEqualTypeOf<string>();

      const watch = client.watch<typeof Greetings>("id", (s) => expectTypeOf(s).toEqualTypeOf<InstanceStatus<typeof Greetings> | null>());
      expectTypeOf(watch).toEqualTypeOf<InstanceWatch<typeof Greetings>>();
      expectTypeOf(watch.ready).toEqualTypeOf<Promise<InstanceStatus<typeof Greetings> | null>>();
    });
  });

  it("types the management calls", () => {
    neverRun(async () => {
      expectTypeOf(client.raiseEvent("id", "approve", { approved: true })).toEqualTypeOf<Promise<void>>();
      expectTypeOf(client.terminate("id", "enough")).toEqualTypeOf<Promise<void>>();
      expectTypeOf(client.suspend("id")).toEqualTypeOf<Promise<void>>();
      expectTypeOf(client.resume("id")).toEqualTypeOf<Promise<void>>();
      expectTypeOf(await client.purge("id")).toEqualTypeOf<{ readonly instancesDeleted: number }>();
      const page = await client.list({ runtimeStatus: ["Running", "Suspended"], createdFrom: new Date(), createdTo: Date.now(), pageSize: 10 });
      expectTypeOf(page.instances).toEqualTypeOf<InstanceStatus[]>();
      expectTypeOf(page.continuation).toEqualTypeOf<string | undefined>();
      // @ts-expect-error not a runtime status
      void client.list({ runtimeStatus: ["Sleeping"] });
      expectTypeOf(await client.history("id")).toEqualTypeOf<HistoryEvent[]>();
    });
  });

  it("matches what the server sends (the client's types are written by hand)", () => {
    // Every server history event is a client history event, and the client names no type the server lacks.
    expectTypeOf<ServerHistoryEvent>().toExtend<HistoryEvent>();
    expectTypeOf<HistoryEvent["type"]>().toEqualTypeOf<ServerHistoryEvent["type"]>();
    // The server's status has the client's fields, with the same runtime statuses.
    expectTypeOf<ServerInstanceStatus["runtimeStatus"]>().toEqualTypeOf<InstanceStatus["runtimeStatus"]>();
    expectTypeOf<keyof ServerInstanceStatus>().toEqualTypeOf<keyof InstanceStatus>();
    expectTypeOf<Omit<ServerInstanceStatus, "runtimeStatus" | "output" | "failureDetails">>().toExtend<Omit<InstanceStatus, "runtimeStatus" | "output" | "failureDetails">>();
  });
});
