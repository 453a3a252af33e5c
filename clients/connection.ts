import { decodeServerMessage } from "../protocol/codec.js";
import type { ClientRequest } from "../protocol/client-frames.js";
import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { ServerFrame, WelcomeFrame } from "../protocol/server-frames.js";
import { PROTOCOL_VERSION } from "../protocol/version.js";
import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { CLIENT_MESSAGE_LIMITS, messageLimitsFor, packFrames, type MessageLimits } from "./message-packer.js";
import { messageText, refusedUpgradeStatus, type WebSocketFactory, type WebSocketLike } from "./web-socket.js";

/** What a connection tells its client. */
export interface ConnectionEvents {
  /** The handshake completed: requests may be sent. */
  ready(welcome: WelcomeFrame): void;
  /** A frame arrived after the handshake. */
  frame(frame: ServerFrame): void;
  /** A connection that had completed its handshake closed; the connection is retrying. */
  dropped(): void;
  /** The server refused the handshake (an error before `welcome`). */
  refused(error: EntityError): void;
  /** A request could not be sent (not JSON, or larger than a message may be). */
  unsendable(frame: ClientRequest, error: EntityError): void;
  /** Something worth reporting that belongs to no request. */
  report(error: EntityError): void;
}

/** How a connection opens sockets and retries. */
export interface ConnectionOptions {
  readonly clientId: string;
  /** The task hub to work in (undefined: the server's own). */
  readonly hub: string | undefined;
  /** The token the server wants (undefined: none). */
  readonly token: string | undefined;
  readonly backoff: BackoffOptions;
  readonly handshakeTimeoutMs: number;
  readonly openSocket: WebSocketFactory;
}

/**
 * One logical connection to a server over successive WebSockets: it says hello, reconnects with
 * backoff when a socket closes, and coalesces the frames sent in one tick into few messages.
 */
export class Connection {
  private socket: WebSocketLike | undefined;
  private open = false;
  private stopped = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private outbox: ClientRequest[] = [];
  private flushScheduled = false;
  private limits: MessageLimits = CLIENT_MESSAGE_LIMITS;
  private onStopped: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    /** The servers to connect to (the nodes of a cluster): each new attempt after a failure or a close goes to the next. */
    private readonly urls: readonly string[],
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  start(): void {
    void this.attemptConnection();
  }

  /** Queues a frame for the next flush; only valid while open (frames are dropped if the socket closes first). */
  send(frame: ClientRequest): void {
    this.outbox.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Stops retrying and closes the socket; resolves once it is closed. */
  stop(): Promise<void> {
    this.stopping ??= this.closeSocket();
    return this.stopping;
  }

  private closeSocket(): Promise<void> {
    this.stopped = true;
    this.open = false;
    this.outbox = [];
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    const socket = this.socket;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.onStopped = resolve;
      try {
        socket.close(1000, "client closed");
      } catch {
        this.socket = undefined;
        resolve();
      }
    });
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const frames = this.outbox;
    if (frames.length === 0) return;
    this.outbox = [];
    const socket = this.socket;
    if (socket === undefined || !this.open) return;
    const messages = packFrames(frames, this.limits, this.events.unsendable);
    try {
      for (const message of messages) socket.send(message);
    } catch (error) {
      this.events.report(new EntityError(ErrorCode.disconnected, `could not send on the WebSocket: ${(error as Error).message}`));
    }
  };

  private async attemptConnection(): Promise<void> {
    if (this.stopped) return;
    let socket: WebSocketLike;
    try {
      socket = await this.options.openSocket(this.url, this.options.token === undefined ? {} : { token: this.options.token });
    } catch (error) {
      this.events.report(new EntityError(ErrorCode.disconnected, `could not open a WebSocket to ${this.url}: ${(error as Error).message}`));
      this.scheduleRetry();
      return;
    }
    if (this.stopped) {
      socket.onerror = () => {};
      socket.close();
      return;
    }
    this.socket = socket;
    const hub = this.options.hub === undefined ? {} : { hub: this.options.hub };
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", version: PROTOCOL_VERSION, clientId: this.options.clientId, ...hub }));
    socket.onmessage = (event) => this.receive(socket, event.data);
    socket.onerror = (event) => {
      const status = refusedUpgradeStatus(event);
      if (status === 401) this.refuse(socket, new EntityError(ErrorCode.unauthorized, "the server refused the token (HTTP 401): give a valid one with the token option"));
      else if (status === 403) this.refuse(socket, new EntityError(ErrorCode.forbidden, "the server refused the connection (HTTP 403): a page of another origin, or a token it refuses"));
    };
    socket.onclose = () => this.socketClosed(socket);
    this.handshakeTimer = setTimeout(() => socket.close(), this.options.handshakeTimeoutMs);
  }

  private receive(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    const text = messageText(data);
    if (text === undefined) return this.events.report(new EntityError(ErrorCode.bad_request, "the server sent a message that is not text"));
    const { frames, errors } = decodeServerMessage(text);
    for (const error of errors) this.events.report(new EntityError(error.code, `the server sent an unreadable frame: ${error.message}`));
    for (const frame of frames) {
      if (this.open) this.events.frame(frame);
      else if (socket === this.socket) this.handshake(socket, frame);
    }
  }

  private handshake(socket: WebSocketLike, frame: ServerFrame): void {
    if (frame.type === "welcome" && frame.version !== PROTOCOL_VERSION) {
      return this.refuse(socket, new EntityError(ErrorCode.unsupported_version, `the server speaks protocol version ${frame.version}; this client speaks ${PROTOCOL_VERSION}`));
    }
    if (frame.type === "error") return this.refuse(socket, new EntityError(frame.code, frame.message, frame.details));
    if (frame.type !== "welcome") return;
    clearTimeout(this.handshakeTimer);
    this.open = true;
    this.attempt = 0;
    this.limits = messageLimitsFor(frame.maxMessageBytes);
    this.events.ready(frame);
  }

  private refuse(socket: WebSocketLike, error: EntityError): void {
    this.socket = undefined;
    clearTimeout(this.handshakeTimer);
    socket.close();
    this.events.refused(error);
    this.scheduleRetry();
  }

  private socketClosed(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    clearTimeout(this.handshakeTimer);
    if (this.stopped) {
      this.onStopped?.();
      return;
    }
    const wasOpen = this.open;
    this.open = false;
    this.outbox = [];
    if (wasOpen) this.events.dropped();
    this.scheduleRetry();
  }

  private urlIndex = 0;

  /** The server the current (or next) attempt connects to. */
  private get url(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    this.urlIndex++; // the next server of the list (the same one when there is one)
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attemptConnection(), backoffDelay(this.attempt++, this.options.backoff));
  }
}
