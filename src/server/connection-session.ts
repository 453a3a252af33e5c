import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  decodeClientMessage,
  type ClientFrame,
  type ErrorFrame,
  type ServerFrame,
} from "../../protocol/index.js";
import type { EntityRuntime, Outcome, ReplyTarget } from "../runtime/index.js";
import { errorMessage, type Logger } from "../log.js";
import type { SocketHandlers, TransportSocket } from "./transport.js";

/** Largest number of frames the server puts in one outgoing message. */
const MAX_FRAMES_PER_SENT_MESSAGE = 2000;
/** Frames are packed into messages of about this size (counted in UTF-16 units); a larger frame goes alone. */
const SENT_MESSAGE_BYTES = 1024 * 1024;
/** How long unsent answers may stay over the cap before the connection is closed. */
const OVER_CAP_GRACE_MS = 1000;

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
    // A client that read its burst starts afresh: a later burst gets its own second under the cap.
    if (this.socket.bufferedAmount <= this.context.maxBufferedBytes) this.overCapSince = undefined;
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
    if (frames.length === 0) return;
    try {
      if (!this.sendPacked(frames)) return;
    } catch (error) {
      // Not expected (answers hold JSON values), but an answer that cannot be encoded must not take the process down.
      this.context.log.error("could not encode answers; closing the connection", { error: errorMessage(error) });
      return this.closeNow(CloseCode.internalError, "internal error");
    }
    this.closeIfNotReading();
  }

  /**
   * Encodes frames one at a time and sends them in messages of about a MiB. Stops and closes the
   * connection (4008) when what it would hold unsent passes four times the cap: a small request
   * (hundreds of `get`s of a large entity) must not make the server build gigabytes of answers.
   * Returns false when it closed the connection.
   */
  private sendPacked(frames: readonly object[]): boolean {
    const limit = this.mostUnsentBytes - this.socket.bufferedAmount;
    let parts: string[] = [];
    let partBytes = 0;
    let total = 0;
    for (const frame of frames) {
      const text = JSON.stringify(frame);
      total += text.length;
      if (total > limit) return this.closeTooMuchUnsent();
      if (parts.length > 0 && (partBytes + text.length > SENT_MESSAGE_BYTES || parts.length >= MAX_FRAMES_PER_SENT_MESSAGE)) {
        this.socket.send(joinFrames(parts));
        parts = [];
        partBytes = 0;
      }
      parts.push(text);
      partBytes += text.length;
    }
    this.socket.send(joinFrames(parts));
    return true;
  }

  private closeTooMuchUnsent(): false {
    this.context.log.warn("closing a connection whose answers would pass the unsent-bytes cap", { capBytes: this.mostUnsentBytes });
    this.closeNow(CloseCode.slowConsumer, "slow consumer: the answers would exceed the server's buffer for this connection");
    return false;
  }

  /**
   * A connection that does not read its answers is closed rather than buffered for: when its unsent
   * bytes stay over the cap for a second (a reading client drains a burst much faster), or reach four
   * times the cap at once. Once over the cap it is checked again a second later, even if nothing more
   * is sent.
   */
  private closeIfNotReading(): void {
    const buffered = this.socket.bufferedAmount;
    const cap = this.context.maxBufferedBytes;
    if (buffered <= cap) {
      this.overCapSince = undefined;
      return;
    }
    const now = Date.now();
    if (this.overCapSince === undefined) {
      this.overCapSince = now;
      setTimeout(() => this.closed || this.closeIfNotReading(), OVER_CAP_GRACE_MS + 10).unref();
    }
    if (buffered <= this.mostUnsentBytes && now - this.overCapSince < OVER_CAP_GRACE_MS) return;
    this.context.log.warn("closing a connection that does not read", { bufferedBytes: buffered });
    this.closeNow(CloseCode.slowConsumer, "slow consumer: answers are not being read");
  }

  /** Unsent bytes past which a connection is closed at once: four times the cap. */
  private get mostUnsentBytes(): number {
    return 4 * this.context.maxBufferedBytes;
  }

  private closeNow(code: number, reason: string): void {
    this.closing = true;
    this.outgoing = [];
    this.acks = [];
    this.socket.close(code, reason);
    this.onClose();
  }
}

/** One message from frames encoded one by one: a frame alone, or a JSON array of them. */
function joinFrames(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0]! : `[${parts.join(",")}]`;
}

function errorFrame(id: number | undefined, code: ErrorFrame["code"], message: string): ErrorFrame {
  return id === undefined ? { type: "error", code, message } : { type: "error", id, code, message };
}
