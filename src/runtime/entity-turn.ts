import { ErrorCode } from "../../protocol/index.js";
import type { MailboxAddress, MailboxMessage, TimerAddress } from "../storage/index.js";
import { eventForInstance, isLockStep, LOCK_OP, nextLockStep, RELEASE_OP, sameHolder, waitsForLock, type LockHolderCheck } from "./entity-locks.js";
import { quoteRequested, type EntityRegistry } from "./entity-registry.js";
import { deleteStep, finishCleans, startCleans } from "./entity-maintenance.js";
import { checkInput } from "./input-schema.js";
import { cloneJson, cloneJsonWithin, jsonEqual, JsonTooLarge } from "./json-value.js";
import type { LoadedEntity } from "./loaded-entity.js";
import { OperationContext } from "./operation-context.js";
import type { OperationRequest, Outcome } from "./operation-request.js";
import { errorMessage } from "../log.js";
import type { OperationTally } from "../observability/meters.js";

/** One new version of the entity's state made by a turn. */
export interface StateVersion {
  readonly version: number;
  readonly state: unknown;
  readonly previousState: unknown;
}

/** An operation of the turn that failed: what it was answered with, and what it threw (for the log's stack). */
export interface TurnFailure {
  readonly request: OperationRequest;
  readonly code: ErrorCode;
  /** The message it was answered with (`Counter/a add: …`). */
  readonly message: string;
  /** What the operation threw; absent when it did not run (its input was refused, it does not exist). */
  readonly thrown?: unknown;
}

/** What one turn did: the answers, the signals to other entities, the versions it made and the operations that failed. */
export interface TurnResult {
  readonly outcomes: Array<[OperationRequest, Outcome]>;
  readonly outgoing: MailboxMessage[];
  readonly consumed: MailboxAddress[];
  /** Fired scheduled signals the turn applied: their timers go with its commit. */
  readonly firedTimers: TimerAddress[];
  /** True when the entity's lock changed (its record must be written even if its state did not). */
  readonly lockChanged: boolean;
  /** True when a `clean` removed the entity's empty record (its version is back to 0; the record is deleted). */
  readonly removed: boolean;
  /** The new versions, oldest first (empty when the state did not change); the last is the entity's state now. */
  readonly versions: StateVersion[];
  /** Each operation that ran (or was refused) and failed, once; a resend answered from its mark is not one. */
  readonly failures: TurnFailure[];
}

const ACK: Outcome = { kind: "ack" };
/** The most JSON characters an entity's state may take (16 MiB; `--max-state-bytes`). */
export const DEFAULT_MAX_STATE_CHARS = 16 * 1024 * 1024;

/**
 * Runs every operation waiting in an entity's mailbox, one at a time, in order. Each operation works
 * on a copy of the state; when it throws (or leaves a state JSON cannot hold) its copy is dropped,
 * so its changes roll back while the rest of the batch keeps theirs. A read sees exactly the
 * operations before it: when they changed the state, that state becomes a version of its own (so
 * the read's version names a state that is committed and published), and the operations after the
 * read make the next one. Updates `entity` (state and version) in place. With a `tally`, each operation
 * is counted, with the time since the one before it ended (its code, and the turn's work around it).
 */
export function runTurn(
  entity: LoadedEntity,
  operations: OperationRequest[],
  registry: EntityRegistry,
  nowMs: number,
  isHolderActive: LockHolderCheck = () => true,
  maxStateChars: number = DEFAULT_MAX_STATE_CHARS,
  tally?: OperationTally,
): TurnResult {
  const outcomes: Array<[OperationRequest, Outcome]> = [];
  const outgoing: MailboxMessage[] = [];
  const consumed: MailboxAddress[] = [];
  const firedTimers: TimerAddress[] = [];
  const versions: StateVersion[] = [];
  const failures: TurnFailure[] = [];
  /** Cleans go first: one that frees a lock whose holder ended lets what waited for it run in this turn. */
  const { rest, cleans, unlocked } = startCleans(entity, operations, isHolderActive);
  let lockChanged = unlocked;
  /**
   * Operations that came before, or while, the entity was held by another: they run once it is free.
   * While their holder still runs they all keep waiting, and are not looked at again (each new turn
   * would cost as much as everything waiting).
   */
  const stillHeld = entity.waiting.length > 0 && entity.lock !== undefined && isHolderActive(entity.lock);
  const items = stillHeld ? rest : [...entity.waiting, ...rest];
  if (!stillHeld) entity.waiting = [];
  /** The state of the last version, and whether an operation ran since (only then can the state differ). */
  let versionState = entity.state;
  let ranSinceVersion = false;
  /** When the last counted operation ended (at first, when the turn began): one clock read per operation. */
  let timedUntil = tally === undefined ? 0 : performance.now();
  const closeVersion = () => {
    if (ranSinceVersion && !jsonEqual(versionState, entity.state)) {
      entity.version++;
      versions.push({ version: entity.version, state: entity.state ?? null, previousState: versionState ?? null });
      versionState = entity.state;
    }
    ranSinceVersion = false;
  };

  for (let i = 0; i < items.length; i++) {
    const request = items[i]!;
    if (waitsForLock(entity.lock, request)) {
      if (isHolderActive(entity.lock!)) {
        entity.waiting.push(request); // stays in the durable mailbox (or unanswered, for a client) until then
        continue;
      }
      entity.lock = undefined; // its holder ended without releasing it (terminated, purged, failed): free
      lockChanged = true;
    }
    if (request.message) consumed.push(request.message);
    if (request.timer) firedTimers.push(request.timer);
    if (isLockStep(request)) {
      if (lockStep(entity, request, outgoing)) {
        lockChanged = true;
        if (entity.lock === undefined) items.splice(i + 1, 0, ...entity.waiting.splice(0)); // released: what waited runs now, first
      }
      continue;
    }
    if (request.maintenance?.kind === "delete") {
      outcomes.push([request, deleteStep(entity)]);
      ranSinceVersion = true;
      continue;
    }
    if (request.kind === "read") {
      tally?.read();
      closeVersion();
      outcomes.push([request, { kind: "state", entityId: entity.id, state: entity.state ?? null, version: entity.version }]);
      continue;
    }
    if (request.sender) {
      const { clientId, seq } = request.sender;
      if (entity.marks.isDuplicate(clientId, seq, nowMs)) {
        // A resend of a signal that ran already (or that a failed commit refused): answered as it was the first time.
        const failure = entity.marks.failureOf(clientId, seq);
        outcomes.push([request, request.refused ?? (failure === undefined ? ACK : { kind: "error", code: failure[0] as ErrorCode, message: failure[1] })]);
        continue;
      }
      entity.marks.record(clientId, seq, nowMs);
    }
    if (request.kind === "signal" && request.at !== undefined && request.at > nowMs) {
      // A scheduled signal: durable as a timer with this turn's commit, applied when it fires.
      const { input, source, holder } = request;
      outgoing.push({ target: entity.id, op: request.op, ...(input === undefined ? {} : { input }), ...(source === undefined ? {} : { source }), ...(holder === undefined ? {} : { holder }), at: request.at });
      outcomes.push([request, ACK]);
      continue;
    }
    const outcome = runOperation(entity, request, registry, outgoing, failures, maxStateChars);
    ranSinceVersion = true;
    if (tally !== undefined) {
      const now = performance.now();
      tally.ran(request.op, outcome.kind === "error", (now - timedUntil) / 1000);
      timedUntil = now;
    }
    if (request.sender && outcome.kind === "error") entity.marks.recordFailure(request.sender.clientId, request.sender.seq, [outcome.code, outcome.message, nowMs]);
    if (request.reply) outgoing.push(eventForInstance(request.reply, request.reply.event, answerOf(outcome), entity.id));
    outcomes.push([request, request.kind === "signal" && outcome.kind !== "error" ? ACK : outcome]);
  }
  closeVersion();
  const cleaned = cleans.length > 0 ? finishCleans(entity, cleans, versions.length > 0) : undefined;
  for (const outcome of cleaned?.outcomes ?? []) outcomes.push(outcome);
  return { outcomes, outgoing, consumed, firedTimers, versions, failures, lockChanged, removed: cleaned?.removed ?? false };
}

/** What an orchestration's call is answered with: the result, or the failure. */
function answerOf(outcome: Outcome): unknown {
  if (outcome.kind === "error") return { failure: { errorType: outcome.code, message: outcome.message } };
  return outcome.kind === "result" && outcome.value !== undefined ? { result: outcome.value } : {};
}

/**
 * A step of the lock protocol: `@lock` holds the entity for the requester (unless another holds it:
 * then it waited above) and passes the request on; `@release` frees it if the sender holds it.
 * Returns true when the entity's lock changed.
 */
function lockStep(entity: LoadedEntity, request: OperationRequest, outgoing: MailboxMessage[]): boolean {
  if (request.op === RELEASE_OP) {
    if (!sameHolder(entity.lock, request.holder)) return false; // not held by the sender (freed already, or never granted)
    entity.lock = undefined;
    return true;
  }
  const changed = !sameHolder(entity.lock, request.holder);
  entity.lock = request.holder;
  outgoing.push(nextLockStep(request, entity.id));
  return changed;
}

/** Runs one operation; a failure is answered as an error outcome and added to `failures`. */
function runOperation(entity: LoadedEntity, request: OperationRequest, registry: EntityRegistry, outgoing: MailboxMessage[], failures: TurnFailure[], maxStateChars: number): Outcome {
  const definition = entity.definition;
  if (request.op === LOCK_OP || request.op === RELEASE_OP) {
    return failed(failures, request, ErrorCode.unknown_operation, `${entity.id}: operation "${request.op}" is reserved for the lock protocol (ctx.lock in an orchestration)`);
  }
  try {
    let input = request.input;
    const operation = definition.kind === "operations" ? definition.operations[request.op] : undefined;
    if (definition.kind === "operations") {
      if (operation === undefined) {
        return failed(failures, request, ErrorCode.unknown_operation, `entity type "${entity.name}" has no operation ${quoteRequested(request.op)}`);
      }
      // An operation with an input schema runs only on an input the schema accepts, and gets its output.
      if (typeof operation !== "function") {
        const checked = checkInput(operation.input, input);
        if (!checked.ok) return failed(failures, request, ErrorCode.bad_request, `${entity.id} ${request.op}: ${checked.message}`);
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
    entity.state = cloneJsonWithin(ctx.state, maxStateChars);
    for (const message of ctx.outgoing) outgoing.push(message);
    return { kind: "result", value: returnsState ? entity.state : value };
  } catch (error) {
    if (error instanceof JsonTooLarge) {
      const message = `${entity.id} ${request.op}: the state it leaves ${error.message} (the most an entity may hold, --max-state-bytes); its changes were rolled back`;
      return failed(failures, request, ErrorCode.state_too_large, message);
    }
    return failed(failures, request, ErrorCode.operation_failed, `${entity.id} ${request.op}: ${errorMessage(error)}`, error);
  }
}

/** Adds a failure to the turn's and returns the error outcome it is answered with. */
function failed(failures: TurnFailure[], request: OperationRequest, code: ErrorCode, message: string, thrown?: unknown): Outcome {
  failures.push(thrown === undefined ? { request, code, message } : { request, code, message, thrown });
  return { kind: "error", code, message };
}
