import { ErrorCode } from "../../protocol/index.js";
import type { MailboxAddress, MailboxMessage } from "../storage/index.js";
import { quoteRequested, type EntityRegistry } from "./entity-registry.js";
import { checkInput } from "./input-schema.js";
import { cloneJson, jsonEqual } from "./json-value.js";
import type { LoadedEntity } from "./loaded-entity.js";
import { OperationContext } from "./operation-context.js";
import type { OperationRequest, Outcome } from "./operation-request.js";
import { errorMessage } from "../log.js";

/** One new version of the entity's state made by a turn. */
export interface StateVersion {
  readonly version: number;
  readonly state: unknown;
  readonly previousState: unknown;
}

/** What one turn did: the answers, the signals to other entities, and the versions it made. */
export interface TurnResult {
  readonly outcomes: Array<[OperationRequest, Outcome]>;
  readonly outgoing: MailboxMessage[];
  readonly consumed: MailboxAddress[];
  /** The new versions, oldest first (empty when the state did not change); the last is the entity's state now. */
  readonly versions: StateVersion[];
}

const ACK: Outcome = { kind: "ack" };

/**
 * Runs every operation waiting in an entity's mailbox, one at a time, in order. Each operation works
 * on a copy of the state; when it throws (or leaves a state JSON cannot hold) its copy is dropped,
 * so its changes roll back while the rest of the batch keeps theirs. A read sees exactly the
 * operations before it: when they changed the state, that state becomes a version of its own (so
 * the read's version names a state that is committed and published), and the operations after the
 * read make the next one. Updates `entity` (state and version) in place.
 */
export function runTurn(entity: LoadedEntity, operations: OperationRequest[], registry: EntityRegistry, nowMs: number): TurnResult {
  const outcomes: Array<[OperationRequest, Outcome]> = [];
  const outgoing: MailboxMessage[] = [];
  const consumed: MailboxAddress[] = [];
  const versions: StateVersion[] = [];
  /** The state of the last version, and whether an operation ran since (only then can the state differ). */
  let versionState = entity.state;
  let ranSinceVersion = false;
  const closeVersion = () => {
    if (ranSinceVersion && !jsonEqual(versionState, entity.state)) {
      entity.version++;
      versions.push({ version: entity.version, state: entity.state ?? null, previousState: versionState ?? null });
      versionState = entity.state;
    }
    ranSinceVersion = false;
  };

  for (const request of operations) {
    if (request.message) consumed.push(request.message);
    if (request.kind === "read") {
      closeVersion();
      outcomes.push([request, { kind: "state", entityId: entity.id, state: entity.state ?? null, version: entity.version }]);
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
    ranSinceVersion = true;
    if (request.sender && outcome.kind === "error") entity.marks.recordFailure(request.sender.clientId, request.sender.seq, [outcome.code, outcome.message, nowMs]);
    outcomes.push([request, request.kind === "signal" && outcome.kind !== "error" ? ACK : outcome]);
  }
  closeVersion();
  return { outcomes, outgoing, consumed, versions };
}

function runOperation(entity: LoadedEntity, request: OperationRequest, registry: EntityRegistry, outgoing: MailboxMessage[]): Outcome {
  const definition = entity.definition;
  try {
    let input = request.input;
    const operation = definition.kind === "operations" ? definition.operations[request.op] : undefined;
    if (definition.kind === "operations") {
      if (operation === undefined) {
        return { kind: "error", code: ErrorCode.unknown_operation, message: `entity type "${entity.name}" has no operation ${quoteRequested(request.op)}` };
      }
      // An operation with an input schema runs only on an input the schema accepts, and gets its output.
      if (typeof operation !== "function") {
        const checked = checkInput(operation.input, input);
        if (!checked.ok) return { kind: "error", code: ErrorCode.bad_request, message: `${entity.id} ${request.op}: ${checked.message}` };
        input = checked.value;
      }
    }
    const initial = entity.exists ? cloneJson(entity.state) : definition.kind === "operations" ? cloneJson(definition.initialState()) : undefined;
    const ctx = new OperationContext(entity.id, entity.name, entity.key, request.op, input, initial, registry);
    let result: unknown;
    if (definition.kind === "operations") {
      result = typeof operation === "function" ? operation(ctx, input) : operation!.run(ctx, input);
    } else {
      result = definition.dispatch(ctx);
    }
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      throw new Error("the operation returned a promise; entity operations must be synchronous");
    }
    // A call's result is copied (and checked) so that the operation cannot change it afterwards
    // through a reference it kept; a signal's result goes nowhere. A result that is the state itself
    // (`get: (ctx) => ctx.state`) is answered with the state's own checked copy instead of a second
    // one: the entity's state is never changed in place (each later operation works on a copy of it),
    // so the answer stays the state as of this operation.
    const returnsState = request.kind === "call" && result === ctx.state;
    const value = request.kind === "call" && !returnsState ? cloneJson(result) : undefined;
    entity.state = cloneJson(ctx.state);
    for (const message of ctx.outgoing) outgoing.push(message);
    return { kind: "result", value: returnsState ? entity.state : value };
  } catch (error) {
    const message = `${entity.id} ${request.op}: ${errorMessage(error)}`;
    return { kind: "error", code: ErrorCode.operation_failed, message };
  }
}
