import { ErrorCode } from "../../protocol/index.js";
import type { MailboxAddress, MailboxMessage } from "../storage/index.js";
import type { EntityRegistry } from "./entity-registry.js";
import { cloneJson, jsonEqual } from "./json-value.js";
import type { LoadedEntity } from "./loaded-entity.js";
import { OperationContext } from "./operation-context.js";
import type { OperationRequest, Outcome } from "./operation-request.js";
import { errorMessage } from "../log.js";

/** What one turn did: the answers, the signals to other entities, and whether anything must be written. */
export interface TurnResult {
  readonly outcomes: Array<[OperationRequest, Outcome]>;
  readonly outgoing: MailboxMessage[];
  readonly consumed: MailboxAddress[];
  readonly stateChanged: boolean;
  readonly previousState: unknown;
}

const ACK: Outcome = { kind: "ack" };

/**
 * Runs every operation waiting in an entity's mailbox, one at a time, in order. Each operation works
 * on a copy of the state; when it throws (or leaves a state JSON cannot hold) its copy is dropped,
 * so its changes roll back while the rest of the batch keeps theirs. Updates `entity` in place.
 */
export function runTurn(entity: LoadedEntity, operations: OperationRequest[], registry: EntityRegistry, nowMs: number): TurnResult {
  const outcomes: Array<[OperationRequest, Outcome]> = [];
  const outgoing: MailboxMessage[] = [];
  const consumed: MailboxAddress[] = [];
  const previousState = entity.state;
  const reads: OperationRequest[] = [];

  for (const request of operations) {
    if (request.message) consumed.push(request.message);
    if (request.kind === "read") {
      reads.push(request); // answered with the state at the end of the turn: the one that is committed
      continue;
    }
    if (request.sender) {
      const { clientId, seq } = request.sender;
      if (entity.marks.isDuplicate(clientId, seq, nowMs)) {
        // A resend of a signal that ran already: answered as it was the first time.
        const failure = entity.marks.failureOf(clientId, seq);
        outcomes.push([request, failure === undefined ? ACK : { kind: "error", code: failure[0] as ErrorCode, message: failure[1] }]);
        continue;
      }
      entity.marks.record(clientId, seq, nowMs);
    }
    const outcome = runOperation(entity, request, registry, outgoing);
    if (request.sender && outcome.kind === "error") entity.marks.recordFailure(request.sender.clientId, request.sender.seq, [outcome.code, outcome.message, nowMs]);
    outcomes.push([request, request.kind === "signal" && outcome.kind !== "error" ? ACK : outcome]);
  }
  const stateChanged = !jsonEqual(previousState, entity.state);
  const version = entity.version + (stateChanged ? 1 : 0);
  for (const read of reads) outcomes.push([read, { kind: "state", entityId: entity.id, state: entity.state ?? null, version }]);
  return { outcomes, outgoing, consumed, stateChanged, previousState };
}

function runOperation(entity: LoadedEntity, request: OperationRequest, registry: EntityRegistry, outgoing: MailboxMessage[]): Outcome {
  const definition = entity.definition;
  try {
    const initial = entity.exists ? cloneJson(entity.state) : definition.kind === "operations" ? cloneJson(definition.initialState()) : undefined;
    const ctx = new OperationContext(entity.id, entity.name, entity.key, request.op, request.input, initial, registry);
    let result: unknown;
    if (definition.kind === "operations") {
      const operation = definition.operations[request.op];
      if (operation === undefined) {
        return { kind: "error", code: ErrorCode.unknown_operation, message: `entity type "${entity.name}" has no operation "${request.op}"` };
      }
      result = operation(ctx, request.input);
    } else {
      result = definition.dispatch(ctx);
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      throw new Error("the operation returned a promise; entity operations must be synchronous");
    }
    const value = request.kind === "call" ? cloneJson(result) : undefined; // a signal's result goes nowhere
    entity.state = cloneJson(ctx.state);
    for (const message of ctx.outgoing) outgoing.push(message);
    return { kind: "result", value };
  } catch (error) {
    const message = `${entity.id} ${request.op}: ${errorMessage(error)}`;
    return { kind: "error", code: ErrorCode.operation_failed, message };
  }
}
