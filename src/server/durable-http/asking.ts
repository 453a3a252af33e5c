import type { OrchestrationHost } from "../../orchestration/index.js";
import type { EntityRuntime, OperationRequest, Outcome, ReplyTarget } from "../../runtime/index.js";
import { problemOf } from "./problems.js";

type InstanceRequest = Parameters<OrchestrationHost["submit"]>[0];
type Unanswered<T> = T extends unknown ? Omit<T, "replyTo" | "requestId"> : never;

/** Hands a request to an instance's mailbox; resolves with its outcome (given after the commit it depends on is durable). */
export function askInstance(host: OrchestrationHost, request: Unanswered<InstanceRequest>): Promise<Outcome> {
  return new Promise((resolve) => host.submit({ ...request, requestId: 0, replyTo: { deliver: (_id, outcome) => resolve(outcome) } } as InstanceRequest));
}

/** Hands an operation (or a read) to an entity's mailbox (the request object is handed over: it gets its reply target); resolves with its outcome once durable. */
export function askEntity(runtime: EntityRuntime, request: Omit<OperationRequest, "replyTo" | "requestId">): Promise<Outcome> {
  return new Promise((resolve) => {
    const asked = request as OperationRequest & { replyTo: ReplyTarget; requestId: number };
    asked.requestId = 0;
    asked.replyTo = { deliver: (_id, outcome) => resolve(outcome) };
    runtime.submit(asked);
  });
}

/** The value of a `result` outcome; an error outcome is thrown as the HTTP problem it answers. */
export function resultOf(outcome: Outcome): unknown {
  if (outcome.kind === "error") throw problemOf(outcome);
  if (outcome.kind === "result") return outcome.value;
  if (outcome.kind === "state") return outcome.state;
  return undefined;
}
