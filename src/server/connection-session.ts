import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  decodeClientMessage,
  isEntityError,
  type ClientFrame,
  type ErrorFrame,
  type HelloFrame,
  type ServerFrame,
} from "../../protocol/index.js";
import type { EntityRuntime, Outcome, ReplyTarget } from "../runtime/index.js";
import { errorMessage, newLogId, type Logger } from "../log.js";
import { packAnswers } from "./answer-packer.js";
import { exactListing, handleEntityQuery } from "./entity-queries.js";
import type { FairInput, InputLane } from "./fair-input.js";
import type { OrchestrationRequests } from "./orchestration-requests.js";
import type { ClusterListings } from "../cluster/cluster-listings.js";
import type { BufferHolder, MemoryBudget } from "./memory-budget.js";
import { isAnswerGroup, OutgoingQueue, type AnswerGroup, type LiveDelivery } from "./outgoing-queue.js";
import type { SocketHandlers, TransportSocket } from "./transport.js";
import type { Principal } from "../security/index.js";
import type { AccessGate } from "./access-gate.js";
import { frameAccess } from "./frame-access.js";
import { TokenBucket } from "./token-bucket.js";

/** How long unsent answers may stay over the cap before the connection is closed. */
const OVER_CAP_GRACE_MS = 1000;
/** How long a connection closed for not reading may take to read its close frame before it is cut (freeing its buffers). */
const CLOSE_GRACE_MS = 5000;

/** Live-state subscriptions, as a connection uses them (the live-state hub implements it). */
export interface SubscriptionService {
  subscribe(session: ConnectionSession, requestId: number, entityId: string, fromVersion: number | undefined): void;
  unsubscribe(session: ConnectionSession, requestId: number, entityId: string): void;
  /** The connection drained its outgoing buffer. */
  drained(session: ConnectionSession): void;
  closed(session: ConnectionSession): void;
  /** The entities a connection subscribes to. */
  subscriptionsOf?(session: ConnectionSession): Iterable<string>;
  /** True while live state knows a version of the entity (`clean` keeps its record: see entity-maintenance.ts). */
  isWatched?(entityId: string): boolean;
}

/** What a connection works with in its task hub (the server's task hubs implement it). */
export interface HubServices {
  /** The hub's canonical name. */
  readonly name: string;
  readonly runtime: EntityRuntime;
  readonly liveState: SubscriptionService;
  /** Orchestration requests (absent when the app defines no orchestrations). */
  readonly orchestrations?: OrchestrationRequests;
  /** The orchestration name of an instance (for authorization), undefined when unknown. */
  instanceName?(instanceId: string): string | undefined;
  /** Cluster mode: listings (entities, instances, failures) and clean over every partition, whichever node owns it. */
  readonly listings?: ClusterListings | undefined;
}

/** The task hubs a connection may name in its hello. */
export interface HubDirectory {
  /** The hub when it is open already (undefined name: the server's own). */
  peek(name?: string): HubServices | undefined;
  /** The hub, opened on first use; rejects with an error carrying a `code`. */
  get(name?: string): Promise<HubServices>;
}

export interface ConnectionContext {
  readonly hubs: HubDirectory;
  /** Requests a connection may send a second, and how many it may save up for a burst (none: unlimited). */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  /** Authorizes each request (everything is allowed when the server runs without authentication). */
  readonly gate: Pick<AccessGate, "authenticating" | "allows" | "forbidden" | "stillValid">;
  /** The open connections (each adds itself, and leaves when it closes): a tokens reload checks them all. */
  readonly sessions: Set<ConnectionSession>;
  readonly maxMessageBytes: number;
  /** Past this many bytes waiting to be sent, the connection is closed (4008): it is not reading. */
  readonly maxBufferedBytes: number;
  /** Most unanswered signals, calls and gets one connection may have; more are refused with `overloaded`. */
  readonly maxInflightRequests: number;
  /** Shares the event loop fairly between connections' input. */
  readonly input: FairInput;
  /** The server-wide bound on what all connections' buffers hold. */
  readonly budget: MemoryBudget;
  readonly log: Logger;
}

/**
 * One client connection: the handshake, the frames it sends, and the answers it gets. Answers are
 * coalesced: everything released in one go (one commit) leaves as one message, acks as one `ack` frame.
 */
export class ConnectionSession implements ReplyTarget, SocketHandlers, BufferHolder {
  private clientId: string | undefined;
  private greeted = false;
  /** The task hub named in the hello (set when the welcome is sent). */
  private hub: HubServices | undefined;
  /** Frames that came after the hello while its hub was being opened, handled once it is. */
  private waitingForHub: ClientFrame[] | undefined;
  private closed = false;
  /** The server decided to close this connection; frames still arriving are ignored. */
  private closing = false;
  private readonly outgoing = new OutgoingQueue();
  private flushScheduled = false;
  private flushing = false;
  /** A live delivery is running at its place in the queue: what it sends goes out at once. */
  private delivering = false;
  /** close() was called: the code and reason to close with once what is queued is sent. */
  private closeAfterFlush: [code: number, reason: string] | undefined;
  /** The close frame is on its way: nothing more is sent. */
  private closeSent = false;
  /** While unsent bytes are over the cap: since when without progress, and the lowest amount seen since. */
  private overCap: { since: number; lowest: number } | undefined;
  /** Signals, calls and gets submitted and not yet answered. */
  private inflight = 0;
  /** The id of the last signal on this connection: ids must increase (that is what de-duplication relies on). */
  private lastSignalId = -1;
  private readonly input: InputLane;
  private readonly rate: TokenBucket | undefined;
  /** This connection's logger, made with its first line (most connections never log one). */
  private sessionLog: Logger | undefined;

  constructor(
    readonly socket: TransportSocket,
    private readonly context: ConnectionContext,
    /** Who the upgrade admitted (undefined without authentication). */
    private readonly principal: Principal | undefined = undefined,
  ) {
    this.input = context.input.lane((message) => this.handleMessage(message));
    context.sessions.add(this);
    this.rate = context.rateLimit && new TokenBucket(context.rateLimit.perSecond, context.rateLimit.burst, performance.now());
  }

  /** The server's logger, with this connection's `connectionId` (and its client id and hub, once known) on every line. */
  private get log(): Logger {
    return (this.sessionLog ??= this.context.log.child({
      connectionId: newLogId(),
      ...(this.clientId === undefined ? {} : { clientId: this.clientId }),
      ...(this.hub === undefined ? {} : { hub: this.hub.name }),
    }));
  }

  onMessage(message: string): void {
    if (this.closing) return;
    this.input.offer(message);
    const queued = this.input.queuedBytes;
    if (queued === 0) return;
    if (queued > this.mostUnsentBytes) return this.closeFlooding();
    this.context.budget.note(this, this.heldBytes());
  }

  onBinaryMessage(): void {
    this.send({ type: "error", code: ErrorCode.bad_request, message: "binary messages are not accepted; send JSON text" });
  }

  onDrain(): void {
    // A client that read its burst starts afresh: a later burst gets its own second under the cap.
    if (this.socket.bufferedAmount <= this.context.maxBufferedBytes) this.overCap = undefined;
    this.context.budget.note(this, this.heldBytes());
    this.hub?.liveState.drained(this);
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.sessions.delete(this);
    this.outgoing.clear();
    this.input.close();
    this.context.budget.forget(this);
    this.waitingForHub = undefined;
    this.hub?.liveState.closed(this);
    this.hub?.orchestrations?.closed(this);
  }

  /** An outcome from the runtime for one of this connection's requests. */
  deliver(requestId: number, outcome: Outcome): void {
    this.inflight--;
    this.reply(requestId, outcome);
  }

  /** Answers a request (used by the runtime through `deliver`, and by live state). */
  reply(requestId: number, outcome: Outcome): void {
    if (this.closed) return;
    switch (outcome.kind) {
      case "ack":
        this.outgoing.ack(requestId);
        break;
      case "result":
        this.outgoing.frame(outcome.value === undefined ? { type: "result", id: requestId } : { type: "result", id: requestId, value: outcome.value });
        break;
      case "state":
        this.outgoing.frame({ type: "state", id: requestId, entity: outcome.entityId, state: outcome.state, version: outcome.version });
        break;
      case "error":
        this.outgoing.error({ type: "error", id: requestId, code: outcome.code, message: outcome.message });
        break;
    }
    this.scheduleFlush();
  }

  /** Queues a frame; queued frames leave together at the end of the current job. */
  send(frame: ServerFrame): void {
    if (this.closed) return;
    if (frame.type === "error") this.outgoing.error(frame);
    else this.outgoing.frame(frame);
    this.scheduleFlush();
  }

  /**
   * Queues an already-encoded message (live state shares one encoding among subscribers), in order
   * with answers; from a live delivery running at its turn, sends it at once.
   */
  sendEncoded(message: string | Uint8Array): void {
    if (this.closed) return;
    if (this.delivering) return this.socket.send(message);
    this.outgoing.push(message);
    this.scheduleFlush();
  }

  /**
   * Queues a live update behind what this connection was sent before; the live-state fan-out calls
   * `flush` for it when its turn comes (or an answer's flush takes it along, in order).
   */
  queueLive(delivery: LiveDelivery): void {
    if (!this.closed) this.outgoing.push(delivery);
  }

  /** Bytes this connection holds in the server: unsent output and unhandled input. */
  heldBytes(): number {
    return this.closed ? 0 : this.unsentBytes + this.input.queuedBytes;
  }

  /** Bytes on their way to the client: queued here (encoded) and buffered by the socket. */
  get unsentBytes(): number {
    return this.socket.bufferedAmount + this.outgoing.encodedBytes;
  }

  /** After the tokens were reloaded: a connection whose token was revoked is closed (its client is refused when it reconnects). */
  recheckAccess(): void {
    if (this.closed) return;
    if (!this.context.gate.stillValid(this.principal)) {
      this.log.info("closing a connection whose token was revoked", { principal: this.principal?.name });
      return this.close(CloseCode.tokenRevoked, "the token of this connection was revoked");
    }
    // Subscriptions and watches opened under grants the token no longer has: the connection is closed,
    // and its client's resubscribe (or rewatch) on reconnecting is refused `forbidden`, as any new one is.
    if (this.holdsWhatItMayNotSee()) {
      this.log.info("closing a connection whose token no longer allows what it subscribes to or watches", { principal: this.principal?.name });
      this.close(CloseCode.grantsChanged, "the token's grants changed: it may no longer see some of what this connection subscribes to or watches");
    }
  }

  private holdsWhatItMayNotSee(): boolean {
    const hub = this.hub;
    if (hub === undefined) return false;
    const frames: Array<Parameters<typeof frameAccess>[0]> = [];
    for (const entity of hub.liveState.subscriptionsOf?.(this) ?? []) frames.push({ type: "subscribe", id: 0, entity });
    for (const instanceId of hub.orchestrations?.watchesOf(this) ?? []) frames.push({ type: "watch", id: 0, instanceId });
    return frames.some((frame) => frameAccess(frame, (instanceId) => hub.instanceName?.(instanceId)).some(({ action, target }) => !this.context.gate.allows(this.principal, action, target)));
  }

  /** The server's memory budget is used up and this connection holds the most: it goes. */
  shed(): void {
    if (this.closed) return;
    const message = "the server's buffers for all connections are full and this connection held the most; closing it";
    this.closeNow(this.input.queuedBytes > this.socket.bufferedAmount ? CloseCode.overloaded : CloseCode.slowConsumer, message, 0);
  }

  /** Sends what is queued, then closes with a close frame. */
  close(code: number, reason: string): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.closeAfterFlush = [code, reason];
    if (!this.flushing) this.flush(); // else the flush under way closes when it is done
  }

  /**
   * Sends everything queued, in order (what is queued while it runs too). Several messages leave in
   * one write: a connection that fell behind a fan-out catches up at the cost of one system call.
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.flushing || this.closeSent) return;
    if (this.outgoing.size === 0) {
      if (this.closeAfterFlush !== undefined) this.closeQueued(); // close() with nothing left to send
      return;
    }
    this.flushing = true;
    try {
      const only = this.outgoing.size === 1 ? this.outgoing.peek()! : undefined;
      if (only !== undefined && typeof only !== "function" && !isAnswerGroup(only)) this.sendQueued(); // one message: nothing to cork
      else this.socket.cork(this.sendQueued);
    } catch (error) {
      // Not expected (answers hold JSON values), but an answer that cannot be encoded must not take the process down.
      this.log.error("could not encode answers; closing the connection", { error: errorMessage(error) });
      return this.closeNow(CloseCode.internalError, "internal error");
    } finally {
      this.flushing = false;
    }
    if (this.closeAfterFlush !== undefined) return this.closeQueued();
    this.closeIfNotReading();
  }

  /** Sends the close frame that close() asked for. */
  private closeQueued(): void {
    const [code, reason] = this.closeAfterFlush!;
    this.closeAfterFlush = undefined;
    this.closeSent = true;
    this.closeNow(code, reason);
  }

  private readonly sendQueued = (): void => {
    for (let item = this.outgoing.shift(); item !== undefined; item = this.outgoing.shift()) {
      if (typeof item === "function") this.deliverLive(item);
      else if (isAnswerGroup(item)) {
        if (!this.sendAnswers(item)) return;
      } else this.socket.send(item);
      if (this.closed) return;
    }
  };

  private deliverLive(delivery: LiveDelivery): void {
    this.delivering = true;
    try {
      delivery();
    } finally {
      this.delivering = false;
    }
  }

  private handleMessage(message: string): void {
    if (this.closing) return;
    const { frames, errors } = decodeClientMessage(message);
    this.rate?.refill(performance.now());
    for (const error of errors) this.send(error);
    for (const frame of frames) {
      if (this.closing) return;
      this.handle(frame);
    }
  }

  private handle(frame: ClientFrame): void {
    if (frame.type === "hello") return this.hello(frame);
    if (this.waitingForHub) return void this.waitingForHub.push(frame);
    if (this.rate && !this.rate.take()) {
      const { perSecond } = this.context.rateLimit!;
      const message = `more than ${perSecond} requests a second on this connection (--rate-limit); send this one again in ${this.rate.retryAfterMs} ms`;
      return this.send({ type: "error", id: frame.id, code: ErrorCode.rate_limited, message, details: { retryAfterMs: this.rate.retryAfterMs } });
    }
    const hub = this.hub;
    if (!hub) {
      return this.send({ type: "error", id: frame.id, code: ErrorCode.handshake_required, message: 'send {"type":"hello","version":1} first' });
    }
    if (frame.type === "listEntities") frame = exactListing(hub.runtime.registry, frame); // checked as the type it lists
    if (this.context.gate.authenticating) {
      for (const { action, target, about } of frameAccess(frame, (instanceId) => hub.instanceName?.(instanceId))) {
        if (!this.context.gate.allows(this.principal, action, target)) {
          return this.send(errorFrame(frame.id, ErrorCode.forbidden, this.context.gate.forbidden(this.principal, action, target, about)));
        }
      }
    }
    const { runtime } = hub;
    if (frame.type === "signal") {
      if (frame.id <= this.lastSignalId) {
        const message = `signal ids must increase on a connection: got ${frame.id} after ${this.lastSignalId} (a resend after a reconnect keeps its number; on one connection a lower one is a mistake)`;
        return this.send(errorFrame(frame.id, ErrorCode.bad_request, message));
      }
      this.lastSignalId = frame.id;
    }
    if (frame.type !== "subscribe" && frame.type !== "unsubscribe" && frame.type !== "watch" && frame.type !== "unwatch") {
      if (this.inflight >= this.context.maxInflightRequests) {
        // Refusing one signal while running later ones would reorder them (and defeat de-duplication
        // of its resend), so the connection closes; a client resends in order after reconnecting.
        this.send(errorFrame(frame.id, ErrorCode.overloaded, `more than ${this.context.maxInflightRequests} requests were waiting for answers on this connection (welcome.maxInflightRequests); closing it`));
        return this.close(CloseCode.overloaded, "too many requests in flight");
      }
      this.inflight++;
    }
    switch (frame.type) {
      case "signal":
      case "call": {
        const problem = runtime.checkOperation(frame.entity, frame.op);
        if (problem) return this.reject(frame.id, problem.code, problem.message);
        const sender = frame.type === "signal" && this.clientId !== undefined ? { clientId: this.clientId, seq: frame.id } : undefined;
        const at = frame.type === "signal" && frame.at !== undefined ? { at: frame.at } : {};
        return runtime.submit({ kind: frame.type, entityId: frame.entity, op: frame.op, input: frame.input, sender, replyTo: this, requestId: frame.id, ...at });
      }
      case "get": {
        const problem = runtime.registry.check(frame.entity);
        if (problem) return this.reject(frame.id, problem.code, problem.message);
        return runtime.submit({ kind: "read", entityId: frame.entity, op: "", replyTo: this, requestId: frame.id });
      }
      case "subscribe": {
        const problem = runtime.registry.check(frame.entity);
        if (problem) return this.send(errorFrame(frame.id, problem.code, problem.message));
        return hub.liveState.subscribe(this, frame.id, frame.entity, frame.fromVersion);
      }
      case "unsubscribe":
        return hub.liveState.unsubscribe(this, frame.id, frame.entity);
      case "failures": {
        const { listings } = hub;
        if (listings === undefined) return this.deliver(frame.id, { kind: "result", value: runtime.failures(frame) });
        const id = frame.id;
        return void listings.failures(frame).then(
          (value) => this.deliver(id, { kind: "result", value }),
          (error: unknown) => {
            if (isEntityError(error)) return this.deliver(id, { kind: "error", code: error.code, message: error.message });
            this.log.error("listing failures failed", { error: errorMessage(error) });
            this.deliver(id, { kind: "error", code: ErrorCode.internal, message: "the server failed to answer (see its log)" });
          },
        );
      }
      case "listEntities":
      case "deleteEntity":
      case "cleanEntities":
        return handleEntityQuery(this, frame, hub, this.log);
      default: {
        const orchestrations = hub.orchestrations;
        if (orchestrations) return orchestrations.handle(this, frame, this.clientId);
        const message = "this server's app defines no orchestrations";
        if (frame.type === "watch" || frame.type === "unwatch") return this.send(errorFrame(frame.id, ErrorCode.unknown_orchestration, message));
        return this.reject(frame.id, ErrorCode.unknown_orchestration, message);
      }
    }
  }

  /** Refuses a counted request before it reaches the runtime. */
  private reject(id: number, code: ErrorFrame["code"], message: string): void {
    this.inflight--;
    this.send(errorFrame(id, code, message));
  }

  private hello(frame: HelloFrame): void {
    const { version } = frame;
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      this.send(errorFrame(undefined, ErrorCode.unsupported_version, `protocol version ${version} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`));
      this.close(CloseCode.protocolError, "unsupported protocol version");
      return;
    }
    if (this.greeted) return this.send(errorFrame(undefined, ErrorCode.bad_request, "hello was already received on this connection"));
    this.greeted = true;
    this.clientId = frame.clientId;
    const open = this.context.hubs.peek(frame.hub);
    if (open) return this.welcome(open);
    // The hub is not open yet: later frames wait until it is (or until the connection is refused).
    const waiting: ClientFrame[] = (this.waitingForHub = []);
    this.context.hubs.get(frame.hub).then(
      (hub) => {
        if (this.closed || this.waitingForHub !== waiting) return;
        this.waitingForHub = undefined;
        this.welcome(hub);
        for (const later of waiting) {
          if (this.closing) return;
          this.handle(later);
        }
      },
      (error: unknown) => {
        if (this.closed) return;
        this.waitingForHub = undefined;
        const code = (error as { code?: ErrorFrame["code"] }).code ?? ErrorCode.internal;
        const message = code === ErrorCode.internal ? "the task hub could not be opened (see the server's log)" : errorMessage(error);
        if (code === ErrorCode.internal) this.log.error("could not open a task hub", { hub: frame.hub, error: errorMessage(error) });
        this.send(errorFrame(undefined, code, message));
        this.close(CloseCode.policyViolation, "task hub unavailable");
      },
    );
  }

  private welcome(hub: HubServices): void {
    this.hub = hub;
    this.send({ type: "welcome", version: PROTOCOL_VERSION, maxMessageBytes: this.context.maxMessageBytes, maxInflightRequests: this.context.maxInflightRequests, hub: hub.name });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return; // a flush under way sends what is queued meanwhile
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Sends one group of answers; false when they would pass four times the cap (the connection is then closed). */
  private sendAnswers(group: AnswerGroup): boolean {
    const frames: object[] = group.acks.length > 0 ? [{ type: "ack", ids: group.acks }, ...group.frames] : group.frames;
    const messages = packAnswers(frames, this.mostUnsentBytes - this.socket.bufferedAmount);
    if (messages === undefined) return this.closeTooMuchUnsent();
    for (const message of messages) this.socket.send(message);
    return true;
  }

  private closeTooMuchUnsent(): false {
    this.log.warn("closing a connection whose answers would pass the unsent-bytes cap", { capBytes: this.mostUnsentBytes });
    this.closeNow(CloseCode.slowConsumer, "slow consumer: the answers would exceed the server's buffer for this connection");
    return false;
  }

  private closeFlooding(): void {
    this.log.warn("closing a connection that sends faster than the server handles its messages", { queuedBytes: this.input.queuedBytes });
    this.closeNow(CloseCode.overloaded, "overloaded: more unhandled input than the server queues for one connection");
  }

  /**
   * A connection that does not read its answers is closed rather than buffered for: when its unsent
   * bytes stay over the cap for a second without going down (a reading client drains a burst, if
   * slowly on a busy machine), or reach four times the cap at once. Once over the cap it is checked
   * again a second later, even if nothing more is sent. What it holds counts against the server's
   * memory budget.
   */
  private closeIfNotReading(): void {
    const buffered = this.socket.bufferedAmount;
    this.context.budget.note(this, buffered + this.input.queuedBytes);
    if (this.closed) return;
    const cap = this.context.maxBufferedBytes;
    if (buffered <= cap) {
      this.overCap = undefined;
      return;
    }
    const now = Date.now();
    if (this.overCap === undefined || buffered < this.overCap.lowest) {
      // Over the cap for the first time, or lower than at any check since: it reads; a fresh second.
      const first = this.overCap === undefined;
      this.overCap = { since: now, lowest: buffered };
      if (first) this.recheckOverCap();
    }
    if (buffered <= this.mostUnsentBytes && now - this.overCap.since < OVER_CAP_GRACE_MS) return;
    this.log.warn("closing a connection that does not read", { bufferedBytes: buffered });
    this.closeNow(CloseCode.slowConsumer, "slow consumer: answers are not being read");
  }

  /** Checks an over-the-cap connection again a second on, until it is under the cap or closed. */
  private recheckOverCap(): void {
    setTimeout(() => {
      if (this.closed || this.overCap === undefined) return;
      this.closeIfNotReading();
      if (!this.closed && this.overCap !== undefined) this.recheckOverCap();
    }, OVER_CAP_GRACE_MS + 10).unref();
  }

  /** Unsent bytes (or queued input) past which a connection is closed at once: four times the cap. */
  private get mostUnsentBytes(): number {
    return 4 * this.context.maxBufferedBytes;
  }

  /**
   * Closes now, dropping what is queued; a connection that has not read its close frame after
   * `graceMs` is cut, so that its buffers are freed (at once when memory is short).
   */
  private closeNow(code: number, reason: string, graceMs = CLOSE_GRACE_MS): void {
    this.closing = true;
    this.socket.close(code, reason);
    this.onClose();
    if (graceMs === 0) this.socket.terminate();
    else setTimeout(() => this.socket.terminate(), graceMs).unref();
  }
}

function errorFrame(id: number | undefined, code: ErrorFrame["code"], message: string): ErrorFrame {
  return id === undefined ? { type: "error", code, message } : { type: "error", id, code, message };
}
