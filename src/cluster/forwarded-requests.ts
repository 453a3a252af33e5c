import type { Msg, NatsConnection } from "nats";
import { ErrorCode } from "../../protocol/index.js";
import { errorMessage, type Logger } from "../log.js";
import type { EntityRuntime, OperationRequest, Outcome } from "../runtime/index.js";
import type { InstanceRequest, OrchestrationHost } from "../orchestration/index.js";
import type { LmdbStore } from "../storage/index.js";
import { AnswersReader, sendAnswers, type ForwardAnswer } from "./forwarded-answers.js";
import { partitionLogAddress } from "./log-names.js";
import { isRecord, jsonOf } from "./nats-payloads.js";
import { PartitionSubscriptions } from "./partition-subscriptions.js";
import { ReplyInbox, type ReplyEnd } from "./reply-inbox.js";

/** A request as it travels to the owner of its partition: the data of an entity or instance request, without where its answer goes. */
type Forwarded = { readonly to: "entity"; readonly request: OperationRequest } | { readonly to: "instance"; readonly request: InstanceRequest };

/** A forwarded request waiting to be sent to its partition's owner, and where its answer goes. */
interface PendingForward {
  /** The request as it travels, in JSON (made once: a batch is measured, and may be sent more than once), and its length in bytes. */
  readonly json: string;
  readonly bytes: number;
  /** True when a second application is impossible (a numbered signal, a read, a client's start): sent again after a try with no answer. */
  readonly resendable: boolean;
  readonly answer: (outcome: Outcome) => void;
}

/** Most requests sent to an owner in one message. */
const MAX_BATCH = 500;
/** How long a forwarded request keeps looking for its partition's owner (a partition moving after a node died takes a lease's time). */
const FORWARD_DEADLINE_MS = 30_000;
/** How long one try waits for the owner's answer (the owner answers after the commit); for an answer in frames, for each next frame. */
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
 * takes those from its partitions' store. A batch's answers come back in one message, or in frames
 * when they are larger than one (a large state, many answers): see forwarded-answers.ts.
 */
export class ForwardedRequests {
  private readonly subscriptions: PartitionSubscriptions;
  /** Requests waiting to be forwarded, per partition, in order; and the partitions with a batch on its way. */
  private readonly queues = new Map<number, PendingForward[]>();
  private readonly sending = new Set<number>();
  /** Where the owners' answers come: one subscription for every batch. */
  private readonly replies: ReplyInbox;
  /** True while serve() submits forwarded requests to this node's runtime. */
  private serving = false;
  private stopped = false;

  constructor(
    private readonly connection: NatsConnection,
    private readonly hub: string,
    private readonly store: LmdbStore,
    private readonly runtime: EntityRuntime,
    private readonly host: OrchestrationHost | undefined,
    private readonly log: Logger,
  ) {
    this.replies = new ReplyInbox(connection);
    const onError = (partition: number, error: unknown) => this.log.warn("a forwarded request could not be served", { partition, error: errorMessage(error) });
    this.subscriptions = new PartitionSubscriptions(connection, (partition) => requestSubject(hub, partition), (_partition, message) => this.serve(message), onError);
    runtime.forward = (request) => this.forwardEntity(request);
    if (host) host.forward = (request) => this.forwardInstance(request);
  }

  /** Listens on the request subjects of exactly the partitions this node owns now. */
  owned(partitions: readonly number[]): void {
    this.subscriptions.owned(partitions);
  }

  /** True while this node takes forwarded requests for the partition. */
  isServing(partition: number): boolean {
    return this.subscriptions.isServing(partition);
  }

  stop(): void {
    this.stopped = true;
    this.subscriptions.stop();
  }

  /** True when the request must go through the queue: another node owns its partition, or requests are on their way to it. */
  private mustForward(id: string): boolean {
    if (this.serving) return false; // a forwarded request, submitted here by serve(): it has arrived
    return !this.store.isLocal(id) || this.queues.has(this.store.partitionOf(id));
  }

  private forwardEntity(request: OperationRequest): boolean {
    if (!this.mustForward(request.entityId)) return false;
    if (request.message || request.timer || request.maintenance?.kind === "clean") return false;
    const { replyTo, requestId, ...data } = request;
    this.enqueue(this.store.partitionOf(request.entityId), { to: "entity", request: data }, request.sender !== undefined, (outcome) => replyTo?.deliver(requestId ?? 0, outcome));
    return true;
  }

  private forwardInstance(request: InstanceRequest): boolean {
    if (!this.mustForward(request.instanceId)) return false;
    if ("message" in request && request.message) return false;
    if ("timer" in request && request.timer) return false;
    if ("workItem" in request && request.workItem) return false;
    if ("parent" in request && request.parent) return false;
    const { replyTo, requestId, ...data } = request;
    const resendable = request.kind === "read" || (request.kind === "start" && request.sender !== undefined);
    this.enqueue(this.store.partitionOf(request.instanceId), { to: "instance", request: data as InstanceRequest }, resendable, (outcome) => replyTo?.deliver(requestId ?? 0, outcome));
    return true;
  }

  /**
   * Requests for one partition leave in the order they came, a batch at a time: the next batch waits
   * until every request of this one is answered (tried again, in order, while the partition moves). A
   * client's signals to one entity must reach it in the order sent: its de-duplication takes a signal
   * numbered below one applied for a resend.
   */
  private enqueue(partition: number, forwarded: Forwarded, resendable: boolean, answer: (outcome: Outcome) => void): void {
    const json = JSON.stringify(forwarded);
    const pending: PendingForward = { json, bytes: Buffer.byteLength(json), resendable, answer };
    let queue = this.queues.get(partition);
    if (queue === undefined) this.queues.set(partition, (queue = []));
    queue.push(pending);
    if (!this.sending.has(partition)) void this.pump(partition, queue);
  }

  private async pump(partition: number, queue: PendingForward[]): Promise<void> {
    this.sending.add(partition);
    try {
      while (queue.length > 0) await this.send(partition, queue.splice(0, this.batchLength(queue)));
    } finally {
      this.sending.delete(partition);
      if (queue.length === 0 && this.queues.get(partition) === queue) this.queues.delete(partition);
    }
  }

  /** How many of the queue's first requests fit in one NATS message (at least one: a larger one goes alone). */
  private batchLength(queue: readonly PendingForward[]): number {
    const budget = (this.connection.info?.max_payload ?? 1024 * 1024) - 8 * 1024;
    let bytes = 0;
    let count = 0;
    for (const pending of queue) {
      bytes += pending.bytes + 1;
      if (count === MAX_BATCH || (count > 0 && bytes > budget)) break;
      count++;
    }
    return count;
  }

  /** Sends a batch until every request of it is answered by the owner (or given up on); answers each. */
  private async send(partition: number, batch: PendingForward[]): Promise<void> {
    const deadline = Date.now() + FORWARD_DEADLINE_MS;
    /** Requests of the batch that a try left without an answer: they may have been applied. */
    const unanswered = new Set<PendingForward>();
    let waiting = batch;
    for (;;) {
      const resendable = waiting.every((pending) => pending.resendable);
      const timeout = Math.max(1, Math.min(resendable ? RESENDABLE_ANSWER_TIMEOUT_MS : ANSWER_TIMEOUT_MS, deadline - Date.now()));
      const data = encoder.encode(`{"requests":[${waiting.map((pending) => pending.json).join(",")}]}`);
      const reader = new AnswersReader(waiting.length);
      // A reply in frames may take longer than `timeout` (that is the wait for each next frame), but a try never outlives the batch's deadline.
      const limits = { idleMs: timeout, untilMs: Math.max(deadline, Date.now() + timeout) };
      const end = await this.replies.request(requestSubject(this.hub, partition), data, limits, (reply) => reader.step(reply));
      const answers = end.kind === "replied" ? reader.answers : undefined;
      if (answers !== undefined) {
        const moved: PendingForward[] = [];
        waiting.forEach((pending, index) => {
          const answer = answers[index]!;
          if ("outcome" in answer) pending.answer(answer.outcome);
          else moved.push(pending);
        });
        waiting = moved;
      } else if (end.kind !== "no-responders") {
        // No answer (none in time, or a reply that is not one): the requests may have been applied. (No
        // responders: the partition has no owner now, nothing was applied, and all are tried again.)
        if (end.kind === "replied") this.log.warn("a reply to forwarded requests that is not their answers was taken as no answer", { partition });
        for (const pending of waiting) unanswered.add(pending);
        // What may not be sent twice is answered now; the rest is tried again.
        const final = waiting.filter((pending) => !pending.resendable);
        for (const pending of final) pending.answer(unavailable(`the node owning partition ${partition} ${noAnswer(end)}; the request may or may not have been applied`));
        waiting = waiting.filter((pending) => pending.resendable);
      }
      if (waiting.length === 0) return;
      if (Date.now() >= deadline || this.stopped) {
        for (const pending of waiting) {
          const applied = unanswered.has(pending) ? "it may or may not have been applied" : "nothing was applied";
          pending.answer(unavailable(`no node of the cluster answered for partition ${partition} within ${FORWARD_DEADLINE_MS / 1000} s; ${applied}`));
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }

  /** Requests forwarded to this node, in order: submitted here when this node owns their partition, answered together once every outcome is known. */
  private serve(message: Msg): void {
    // Answers go to an asker's inbox only: frames or answers published on another subject (a log, a JetStream API) could do harm there.
    const reply = message.reply;
    if (!reply?.startsWith("_INBOX.")) {
      this.log.warn("forwarded requests without an inbox to answer to were dropped", { subject: message.subject });
      return;
    }
    const body = jsonOf(message);
    const requests = isRecord(body) && Array.isArray(body.requests) && body.requests.length <= MAX_BATCH ? body.requests.map(forwardedOf) : undefined;
    if (requests === undefined || requests.length === 0) {
      this.log.warn("a message on a request subject that is not a batch of forwarded requests was dropped", { subject: message.subject });
      return;
    }
    const answers: Array<ForwardAnswer | undefined> = requests.map(() => undefined);
    let left = requests.length;
    const answer = (index: number, body: ForwardAnswer) => {
      if (answers[index] !== undefined) return;
      answers[index] = body;
      if (--left > 0) return;
      sendAnswers(this.connection, reply, answers as ForwardAnswer[], (error) => this.log.warn("answering forwarded requests failed", { error: errorMessage(error) }));
    };
    requests.forEach((forwarded, index) => {
      if (forwarded === undefined) return answer(index, { outcome: { kind: "error", code: ErrorCode.bad_request, message: "not a forwarded request" } });
      const id = forwarded.to === "entity" ? forwarded.request.entityId : forwarded.request.instanceId;
      if (!this.store.isLocal(id)) return answer(index, { moved: true });
      // Refused because the partition left this node meanwhile (its part of the commit did not land: nothing
      // was applied): the sender finds the new owner. Any other answer, a refusal included, is final.
      const moved = (outcome: Outcome) => outcome.kind === "error" && outcome.code === ErrorCode.store_unavailable && !outcome.message.includes("may or may not") && !this.store.isLocal(id);
      const replyTo = { deliver: (_requestId: number, outcome: Outcome) => answer(index, moved(outcome) ? { moved: true } : { outcome }) };
      if (forwarded.to === "instance" && !this.host) return answer(index, { outcome: { kind: "error", code: ErrorCode.unknown_orchestration, message: "this app defines no orchestrations" } });
      this.serving = true;
      try {
        if (forwarded.to === "entity") this.runtime.submit({ ...forwarded.request, replyTo, requestId: 0 });
        else this.host!.submit({ ...forwarded.request, replyTo, requestId: 0 } as InstanceRequest);
      } finally {
        this.serving = false;
      }
    });
  }
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

/** What became of a try that brought no answers, as the end of "the node owning partition p …". */
function noAnswer(end: ReplyEnd): string {
  switch (end.kind) {
    case "timeout":
      return "did not answer in time";
    case "failed":
      return `could not be asked (${end.reason})`;
    default:
      return "gave a reply that is not an answer";
  }
}

function unavailable(message: string): Outcome {
  return { kind: "error", code: ErrorCode.store_unavailable, message };
}
