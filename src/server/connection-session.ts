import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  decodeClientMessage,
  encodeMessage,
  type ClientFrame,
  type ErrorFrame,
  type ServerFrame,
} from "../../protocol/index.js";
import type { EntityRuntime, Outcome, ReplyTarget } from "../runtime/index.js";
import type { Logger } from "../log.js";
import type { SocketHandlers, TransportSocket } from "./transport.js";

/** Largest number of frames the server puts in one outgoing message. */
const MAX_FRAMES_PER_SENT_MESSAGE = 2000;

/** Live-state subscriptions, as a connection uses them (the live-state hub implements it). */
export interface SubscriptionService {
  subscribe(session: ConnectionSession, requestId: number, entityId: string, fromVersion: number | undefined): void;
  unsubscribe(session: ConnectionSession, requestId: number, entityId: string): void;
  /** The connection drained its outgoing buffer. */
  drained(session: ConnectionSession): void;
  closed(session: ConnectionSession): void;
}

export interface ConnectionContext {
  readonly runtime: EntityRuntime;
  readonly subscriptions: SubscriptionService;
  readonly maxMessageBytes: number;
  /** Past this many bytes waiting to be sent, the connection is closed (4008): it is not reading. */
  readonly maxBufferedBytes: number;
  /** Most unanswered signals, calls and gets one connection may have; more are refused with `overloaded`. */
  readonly maxInflightRequests: number;
  readonly log: Logger;
}

/**
 * One client connection: the handshake, the frames it sends, and the answers it gets. Answers are
 * coalesced: everything released in one go (one commit) leaves as one message, acks as one `ack` frame.
 */
export class ConnectionSession implements ReplyTarget, SocketHandlers {
  private clientId: string | undefined;
  private greeted = false;
  private closed = false;
  /** The server decided to close this connection; frames still arriving are ignored. */
  private closing = false;
  private acks: number[] = [];
  private outgoing: ServerFrame[] = [];
  private flushScheduled = false;
  /** When the unsent bytes last went over the cap (undefined while under it). */
  private overCapSince: number | undefined;
  /** Signals, calls and gets submitted and not yet answered. */
  private inflight = 0;

  constructor(
    readonly socket: TransportSocket,
    private readonly context: ConnectionContext,
  ) {}

  onMessage(message: string): void {
    if (this.closing) return;
    const { frames, errors } = decodeClientMessage(message);
    for (const error of errors) this.send(error);
    for (const frame of frames) {
      if (this.closing) return;
      this.handle(frame);
    }
  }

  onBinaryMessage(): void {
    this.send({ type: "error", code: ErrorCode.bad_request, message: "binary messages are not accepted; send JSON text" });
  }

  onDrain(): void {
    this.context.subscriptions.drained(this);
  }

  onClose(): void {
    this.closed = true;
    this.context.subscriptions.closed(this);
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
        this.acks.push(requestId);
        this.scheduleFlush();
        return;
      case "result":
        return this.send(outcome.value === undefined ? { type: "result", id: requestId } : { type: "result", id: requestId, value: outcome.value });
      case "state":
        return this.send({ type: "state", id: requestId, entity: outcome.entityId, state: outcome.state, version: outcome.version });
      case "error":
        return this.send({ type: "error", id: requestId, code: outcome.code, message: outcome.message });
    }
  }

  /** Queues a frame; queued frames leave together at the end of the current job. */
  send(frame: ServerFrame): void {
    if (this.closed) return;
    this.outgoing.push(frame);
    this.scheduleFlush();
  }

  /**
   * Sends an already-encoded message now, after anything queued (live-state changes share one encoding
   * among subscribers). The live-state hub bounds what it buffers itself, so no read check here.
   */
  sendEncoded(message: string | Uint8Array): void {
    if (this.outgoing.length > 0 || this.acks.length > 0) this.flush();
    if (this.closed) return;
    this.socket.send(message);
  }

  close(code: number, reason: string): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.flush();
    this.socket.close(code, reason);
  }

  private handle(frame: ClientFrame): void {
    if (frame.type === "hello") return this.hello(frame.version, frame.clientId);
    if (!this.greeted) {
      return this.send({ type: "error", id: frame.id, code: ErrorCode.handshake_required, message: 'send {"type":"hello","version":1} first' });
    }
    const { runtime } = this.context;
    if (frame.type !== "subscribe" && frame.type !== "unsubscribe") {
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
        const problem = runtime.registry.check(frame.entity, frame.op);
        if (problem) return this.reject(frame.id, problem.code, problem.message);
        const sender = frame.type === "signal" && this.clientId !== undefined ? { clientId: this.clientId, seq: frame.id } : undefined;
        return runtime.submit({ kind: frame.type, entityId: frame.entity, op: frame.op, input: frame.input, sender, replyTo: this, requestId: frame.id });
      }
      case "get": {
        const problem = runtime.registry.check(frame.entity);
        if (problem) return this.reject(frame.id, problem.code, problem.message);
        return runtime.submit({ kind: "read", entityId: frame.entity, op: "", replyTo: this, requestId: frame.id });
      }
      case "subscribe": {
        const problem = runtime.registry.check(frame.entity);
        if (problem) return this.send(errorFrame(frame.id, problem.code, problem.message));
        return this.context.subscriptions.subscribe(this, frame.id, frame.entity, frame.fromVersion);
      }
      case "unsubscribe":
        return this.context.subscriptions.unsubscribe(this, frame.id, frame.entity);
    }
  }

  /** Refuses a counted request before it reaches the runtime. */
  private reject(id: number, code: ErrorFrame["code"], message: string): void {
    this.inflight--;
    this.send(errorFrame(id, code, message));
  }

  private hello(version: number, clientId: string | undefined): void {
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      this.send(errorFrame(undefined, ErrorCode.unsupported_version, `protocol version ${version} is not supported; this server speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`));
      this.close(CloseCode.protocolError, "unsupported protocol version");
      return;
    }
    if (this.greeted) return this.send(errorFrame(undefined, ErrorCode.bad_request, "hello was already received on this connection"));
    this.greeted = true;
    this.clientId = clientId;
    this.send({ type: "welcome", version: PROTOCOL_VERSION, maxMessageBytes: this.context.maxMessageBytes, maxInflightRequests: this.context.maxInflightRequests });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const frames: object[] = this.outgoing;
    this.outgoing = [];
    if (this.acks.length > 0) {
      frames.unshift({ type: "ack", ids: this.acks });
      this.acks = [];
    }
    for (let start = 0; start < frames.length; start += MAX_FRAMES_PER_SENT_MESSAGE) {
      this.socket.send(encodeMessage(frames.slice(start, start + MAX_FRAMES_PER_SENT_MESSAGE)));
    }
    this.closeIfNotReading();
  }

  /**
   * A connection that does not read its answers is closed rather than buffered for: when its unsent
   * bytes stay over the cap for a second (a reading client drains a burst much faster), or reach four
   * times the cap at once.
   */
  private closeIfNotReading(): void {
    const buffered = this.socket.bufferedAmount;
    const cap = this.context.maxBufferedBytes;
    if (buffered <= cap) {
      this.overCapSince = undefined;
      return;
    }
    const now = Date.now();
    this.overCapSince ??= now;
    if (buffered <= 4 * cap && now - this.overCapSince < 1000) return;
    this.context.log.warn("closing a connection that does not read", { bufferedBytes: buffered });
    this.closing = true;
    this.socket.close(CloseCode.slowConsumer, "slow consumer: answers are not being read");
    this.onClose();
  }
}

function errorFrame(id: number | undefined, code: ErrorFrame["code"], message: string): ErrorFrame {
  return id === undefined ? { type: "error", code, message } : { type: "error", id, code, message };
}
