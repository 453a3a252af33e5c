import type { Msg, NatsConnection, Subscription } from "nats";
import { ErrorCode } from "../../protocol/index.js";
import { errorMessage, type Logger } from "../log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../runtime/index.js";
import type { InstanceRequest, OrchestrationHost } from "../orchestration/index.js";
import type { LmdbStore } from "../storage/index.js";
import { partitionLogAddress } from "./log-names.js";
import { guarded, isRecord, jsonOf } from "./nats-payloads.js";

/** A request as it travels to the owner of its partition: the data of an entity or instance request, without where its answer goes. */
type Forwarded = { readonly to: "entity"; readonly request: OperationRequest } | { readonly to: "instance"; readonly request: InstanceRequest };
/** The owner's answer: the outcome, or word that it does not own the partition (any more). */
type ForwardAnswer = { readonly outcome: Outcome } | { readonly moved: true };

/** How long a forwarded request keeps looking for its partition's owner (a partition moving after a node died takes a lease's time). */
const FORWARD_DEADLINE_MS = 30_000;
/** How long one try waits for the owner's answer (the owner answers after the commit). */
const ANSWER_TIMEOUT_MS = 10_000;
/** The same for a request that may be sent again: shorter, so that one sent to a node that then died is soon sent to the next owner. */
const RESENDABLE_ANSWER_TIMEOUT_MS = 3_000;
const RETRY_DELAY_MS = 100;

const encoder = new TextEncoder();

/**
 * Requests for actors of partitions that another node owns: sent to that partition's request subject,
 * where only its owner listens, and answered from there after the owner's commit. A request that finds
 * no owner (the partition is moving) is tried again until one answers; a signal also after a try that
 * got no answer (its client id and number make a second application impossible). Requests that exist
 * only inside a node (durable messages, timers, activity results) are not forwarded: the new owner
 * takes those from its partitions' store.
 */
export class ForwardedRequests {
  private readonly subscriptions = new Map<number, Subscription>();
  private stopped = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly hub: string,
    private readonly store: LmdbStore,
    private readonly runtime: EntityRuntime,
    private readonly host: OrchestrationHost | undefined,
    private readonly log: Logger,
  ) {
    runtime.forward = (request) => this.forwardEntity(request);
    if (host) host.forward = (request) => this.forwardInstance(request);
  }

  /** Listens on the request subjects of exactly the partitions this node owns now. */
  owned(partitions: readonly number[]): void {
    if (this.stopped) return;
    const wanted = new Set(partitions);
    for (const [partition, subscription] of this.subscriptions) {
      if (wanted.has(partition)) continue;
      subscription.unsubscribe();
      this.subscriptions.delete(partition);
    }
    for (const partition of wanted) {
      if (this.subscriptions.has(partition)) continue;
      const serve = guarded((error: Error | null, message: Msg) => error || this.serve(message), (error) => this.log.warn("a forwarded request could not be served", { error: errorMessage(error) }));
      this.subscriptions.set(partition, this.connection.subscribe(requestSubject(this.hub, partition), { callback: serve }));
    }
  }

  /** True while this node takes forwarded requests for the partition. */
  isServing(partition: number): boolean {
    return this.subscriptions.has(partition);
  }

  stop(): void {
    this.stopped = true;
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
  }

  private forwardEntity(request: OperationRequest): boolean {
    if (request.message || request.timer || request.maintenance?.kind === "clean") return false;
    const { replyTo, requestId, ...data } = request;
    void this.send(this.store.partitionOf(request.entityId), { to: "entity", request: data }, request.sender !== undefined).then((outcome) => replyTo?.deliver(requestId ?? 0, outcome));
    return true;
  }

  private forwardInstance(request: InstanceRequest): boolean {
    if ("message" in request && request.message) return false;
    if ("timer" in request && request.timer) return false;
    if ("workItem" in request && request.workItem) return false;
    if ("parent" in request && request.parent) return false;
    const { replyTo, requestId, ...data } = request;
    const idempotent = request.kind === "read" || (request.kind === "start" && request.sender !== undefined);
    void this.send(this.store.partitionOf(request.instanceId), { to: "instance", request: data as InstanceRequest }, idempotent).then((outcome) => replyTo?.deliver(requestId ?? 0, outcome));
    return true;
  }

  /** Sends until the owner answers; `resendable` when a second application is impossible (tried again after a try with no answer). */
  private async send(partition: number, forwarded: Forwarded, resendable: boolean): Promise<Outcome> {
    const deadline = Date.now() + FORWARD_DEADLINE_MS;
    const data = encoder.encode(JSON.stringify(forwarded));
    /** Set once a try got no answer: it may have been applied, so a final failure cannot say it was not. */
    let unanswered = false;
    for (;;) {
      let answer: ForwardAnswer | undefined;
      try {
        const timeout = Math.max(1, Math.min(resendable ? RESENDABLE_ANSWER_TIMEOUT_MS : ANSWER_TIMEOUT_MS, deadline - Date.now()));
        answer = answerOf(jsonOf(await this.connection.request(requestSubject(this.hub, partition), data, { timeout })));
      } catch (error) {
        const noOwner = (error as { code?: string }).code === "503"; // no node listens: the partition has no owner now
        if (!noOwner && !resendable) {
          return unavailable(`the node owning partition ${partition} did not answer in time (${errorMessage(error)}); the request may or may not have been applied`);
        }
        if (!noOwner) unanswered = true;
      }
      if (answer && "outcome" in answer) return answer.outcome;
      if (Date.now() >= deadline || this.stopped) {
        const applied = unanswered ? "it may or may not have been applied" : "nothing was applied";
        return unavailable(`no node of the cluster answered for partition ${partition} within ${FORWARD_DEADLINE_MS / 1000} s; ${applied}`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }

  /** A request forwarded to this node: submitted here when this node owns its partition, answered once its outcome is known. */
  private serve(message: Msg): void {
    const forwarded = forwardedOf(jsonOf(message));
    if (forwarded === undefined) {
      this.log.warn("a message on a request subject that is not a forwarded request was dropped", { subject: message.subject });
      return;
    }
    const id = forwarded.to === "entity" ? forwarded.request.entityId : forwarded.request.instanceId;
    const answer = (body: ForwardAnswer) => {
      try {
        message.respond(encoder.encode(JSON.stringify(body)));
      } catch (error) {
        this.log.warn("answering a forwarded request failed", { error: errorMessage(error) });
      }
    };
    if (!this.store.isLocal(id)) return answer({ moved: true });
    // Refused because the partition left this node meanwhile (its part of the commit did not land: nothing
    // was applied): the sender finds the new owner. Any other answer, a refusal included, is final.
    const moved = (outcome: Outcome) => outcome.kind === "error" && outcome.code === ErrorCode.store_unavailable && !outcome.message.includes("may or may not") && !this.store.isLocal(id);
    const replyTo = { deliver: (_requestId: number, outcome: Outcome) => answer(moved(outcome) ? { moved: true } : { outcome }) };
    if (forwarded.to === "entity") this.runtime.submit({ ...forwarded.request, replyTo, requestId: 0 });
    else if (this.host) this.host.submit({ ...forwarded.request, replyTo, requestId: 0 } as InstanceRequest);
    else answer({ outcome: { kind: "error", code: ErrorCode.unknown_orchestration, message: "this app defines no orchestrations" } });
  }
}

/** An owner's answer, or undefined when the reply is not one (it is treated as no answer). */
function answerOf(value: unknown): ForwardAnswer | undefined {
  if (!isRecord(value)) return undefined;
  if (value.moved === true) return { moved: true };
  const { outcome } = value;
  if (!isRecord(outcome) || typeof outcome.kind !== "string") return undefined;
  if (outcome.kind === "error" && (typeof outcome.code !== "string" || typeof outcome.message !== "string")) return undefined;
  return { outcome: outcome as Outcome };
}

/**
 * A forwarded request, checked as far as routing needs (an entity or instance id, a kind); the rest is
 * checked where every request is (the runtime answers a bad operation or input with an error).
 */
function forwardedOf(value: unknown): Forwarded | undefined {
  if (!isRecord(value) || !isRecord(value.request)) return undefined;
  const { request } = value;
  if (value.to === "entity" && typeof request.entityId === "string" && (request.kind === "signal" || request.kind === "call" || request.kind === "read") && typeof request.op === "string") {
    if (request.message !== undefined || request.timer !== undefined || request.maintenance !== undefined && !isRecord(request.maintenance)) return undefined;
    return value as Forwarded;
  }
  const kinds = ["start", "event", "terminate", "suspend", "resume", "purge", "rewind", "read"];
  if (value.to === "instance" && typeof request.instanceId === "string" && kinds.includes(request.kind as string)) {
    if (request.message !== undefined || request.timer !== undefined || request.workItem !== undefined || request.parent !== undefined) return undefined;
    if (request.kind === "event" && !isRecord(request.event)) return undefined;
    return value as Forwarded;
  }
  return undefined;
}

function requestSubject(hub: string, partition: number): string {
  return partitionLogAddress(hub, partition).subject.replace(".log.", ".requests.");
}

function unavailable(message: string): Outcome {
  return { kind: "error", code: ErrorCode.store_unavailable, message };
}
