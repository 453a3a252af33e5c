import type { CallFrame, GetFrame, SignalFrame } from "../protocol/client-frames.js";
import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { ServerFrame } from "../protocol/server-frames.js";
import type { ResolvedClientOptions } from "./client-options.js";
import { Connection, type ConnectionEvents } from "./connection.js";
import { createEntityProxy, type EntityProxy } from "./entity-proxy.js";
import { PendingTable } from "./pending-table.js";
import { RequestQueue } from "./request-queue.js";
import { LiveSubscriptions, type LiveStateListener, type Subscription } from "./subscription.js";

/** An entity's durable state and the version it is at (0 when it does not exist). */
export interface EntitySnapshot<S = unknown> {
  readonly state: S | null;
  readonly version: number;
}

/** A connection to a durable-entities server, as returned by `connect()`. */
export interface DurableClient {
  /** Names this client across reconnects. */
  readonly clientId: string;
  /** True while a connection is established (requests made otherwise wait for one). */
  readonly connected: boolean;
  /** Sends an operation without waiting for its result; resolves once the server has made it durable. */
  signal(entityId: string, operation: string, input?: unknown): Promise<void>;
  /** Runs an operation; resolves with its return value once its changes are durable. */
  call<R = unknown>(entityId: string, operation: string, input?: unknown): Promise<R>;
  /** The entity's durable state, null when it does not exist. */
  get<S = unknown>(entityId: string): Promise<S | null>;
  /** The entity's durable state and version. */
  getWithVersion<S = unknown>(entityId: string): Promise<EntitySnapshot<S>>;
  /** A typed handle on one entity: `client.entity<typeof Counter>("Counter/alice").call.add(1)`. */
  entity<D = unknown>(entityId: string): EntityProxy<D>;
  /** Live state: a snapshot, then every committed change; listeners of one entity share one server subscription. */
  subscribe<S = unknown>(entityId: string, listener: LiveStateListener<S>): Subscription<S>;
  /** Closes the connection; every pending request fails with `disconnected`. */
  close(): Promise<void>;
}

type Answered = SignalFrame | CallFrame | GetFrame;

class PendingRequest {
  constructor(
    readonly frame: Answered,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: EntityError) => void,
  ) {}
}

// One shared executor instead of a closure per request: the hot path allocates only the promise.
let capturedResolve: (value: unknown) => void = () => {};
let capturedReject: (error: EntityError) => void = () => {};
function captureResolvers(resolve: (value: never) => void, reject: (error: EntityError) => void): void {
  capturedResolve = resolve as (value: unknown) => void;
  capturedReject = reject;
}

/** The client behind `connect()`: request ids, answers, the disconnected queue and reconnection policy. */
export class DurableClientSession implements DurableClient {
  readonly clientId: string;
  private nextRequestId = 1;
  private readonly inflight = new PendingTable<PendingRequest>();
  private readonly queue: RequestQueue<PendingRequest>;
  private readonly connection: Connection;
  private readonly live: LiveSubscriptions;
  private isConnected = false;
  /** The server's limit on unanswered requests (from `welcome`); more wait in the queue. */
  private window = Number.POSITIVE_INFINITY;
  private everConnected = false;
  private closed = false;
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopping: Promise<void> | undefined;
  private firstConnection: { resolve(): void; reject(error: EntityError): void } | undefined;

  constructor(
    private readonly url: string,
    private readonly options: ResolvedClientOptions,
  ) {
    this.clientId = options.clientId;
    this.queue = new RequestQueue(options.maxQueuedRequests);
    this.connection = new Connection(url, options, this.connectionEvents());
    this.live = new LiveSubscriptions({
      nextId: () => this.nextRequestId++,
      isConnected: () => this.isConnected,
      send: (frame) => this.connection.send(frame),
      report: options.onError,
    });
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Connects for the first time: resolves on the first `welcome`, retrying until `connectTimeoutMs`. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new EntityError(ErrorCode.disconnected, `could not connect to ${this.url} within ${this.options.connectTimeoutMs} ms`);
        this.firstConnection?.reject(error);
      }, this.options.connectTimeoutMs);
      this.firstConnection = {
        resolve: () => {
          clearTimeout(timer);
          this.firstConnection = undefined;
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.firstConnection = undefined;
          void this.close();
          reject(error);
        },
      };
      this.connection.start();
    });
  }

  signal(entityId: string, operation: string, input?: unknown): Promise<void> {
    const copy = copyInput(input);
    if (copy instanceof EntityError) return Promise.reject(copy);
    return this.request({ type: "signal", id: this.nextRequestId++, entity: entityId, op: operation, input: copy });
  }

  call<R = unknown>(entityId: string, operation: string, input?: unknown): Promise<R> {
    const copy = copyInput(input);
    if (copy instanceof EntityError) return Promise.reject(copy);
    return this.request({ type: "call", id: this.nextRequestId++, entity: entityId, op: operation, input: copy });
  }

  async get<S = unknown>(entityId: string): Promise<S | null> {
    return (await this.getWithVersion<S>(entityId)).state;
  }

  getWithVersion<S = unknown>(entityId: string): Promise<EntitySnapshot<S>> {
    return this.request({ type: "get", id: this.nextRequestId++, entity: entityId });
  }

  entity<D = unknown>(entityId: string): EntityProxy<D> {
    return createEntityProxy<D>(this, entityId);
  }

  subscribe<S = unknown>(entityId: string, listener: LiveStateListener<S>): Subscription<S> {
    if (this.closed) throw new EntityError(ErrorCode.disconnected, "the client is closed");
    const subscription = this.live.subscribe(entityId, listener);
    // Like a request made while disconnected: its `ready` fails if no connection comes back in time.
    if (!this.isConnected) this.armDisconnectTimer();
    return subscription;
  }

  close(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.closed = true;
    this.isConnected = false;
    this.stopping = this.connection.stop();
    clearTimeout(this.disconnectTimer);
    const error = new EntityError(ErrorCode.disconnected, "the client was closed before an answer came");
    this.failPending(error);
    this.live.closeAll(error);
    this.firstConnection?.reject(new EntityError(ErrorCode.disconnected, "the client was closed before it connected"));
    return this.stopping;
  }

  private request<T>(frame: Answered): Promise<T> {
    if (this.closed) return Promise.reject(new EntityError(ErrorCode.disconnected, "the client is closed"));
    const promise = new Promise<T>(captureResolvers);
    const pending = new PendingRequest(frame, capturedResolve, capturedReject);
    if (this.isConnected && this.queue.size === 0 && this.inflight.size < this.window) {
      this.inflight.add(frame.id, pending);
      this.connection.send(frame);
      return promise;
    }
    try {
      this.queue.push(pending);
      if (!this.isConnected) this.armDisconnectTimer();
    } catch (error) {
      pending.reject(error as EntityError);
    }
    return promise;
  }

  /** Sends queued requests, oldest first, while connected and within the server's in-flight window. */
  private pump(): void {
    while (this.isConnected && this.queue.size > 0 && this.inflight.size < this.window) {
      const pending = this.queue.shift()!;
      this.inflight.add(pending.frame.id, pending);
      this.connection.send(pending.frame);
    }
  }

  private connectionEvents(): ConnectionEvents {
    return {
      ready: (welcome) => this.connectionReady(welcome.maxInflightRequests),
      frame: (frame) => this.receive(frame),
      dropped: () => this.connectionDropped(),
      refused: (error) => {
        if (this.firstConnection !== undefined && !this.everConnected) this.firstConnection.reject(error);
        else this.options.onError(error);
      },
      unsendable: (frame, error) => {
        this.answerError(frame.id, error);
        this.pump();
      },
      report: this.options.onError,
    };
  }

  private connectionReady(maxInflightRequests: number | undefined): void {
    if (this.closed) return;
    this.isConnected = true;
    this.everConnected = true;
    this.window = maxInflightRequests ?? Number.POSITIVE_INFINITY;
    clearTimeout(this.disconnectTimer);
    this.disconnectTimer = undefined;
    // Resend what was not answered, within the (possibly new) window; the rest waits at the queue's front.
    const unanswered = this.inflight.drain();
    const resend = unanswered.slice(0, this.window);
    this.queue.unshift(unanswered.slice(resend.length));
    for (const pending of resend) {
      this.inflight.add(pending.frame.id, pending);
      this.connection.send(pending.frame);
    }
    this.live.resubscribeAll();
    this.pump();
    this.firstConnection?.resolve();
    this.options.onConnectionChange(true);
  }

  private connectionDropped(): void {
    if (this.closed) return;
    this.isConnected = false;
    const calls = [...this.inflight.values()].filter((pending) => pending.frame.type === "call");
    for (const pending of calls) {
      this.inflight.take(pending.frame.id);
      const { op, entity } = pending.frame as CallFrame;
      pending.reject(
        new EntityError(ErrorCode.disconnected, `the connection closed while the call to ${op} on ${entity} was in flight; it may or may not have run`),
      );
    }
    this.armDisconnectTimer();
    this.options.onConnectionChange(false);
  }

  private armDisconnectTimer(): void {
    if (this.disconnectTimer !== undefined) return;
    this.disconnectTimer = setTimeout(() => {
      this.disconnectTimer = undefined;
      if (this.isConnected || this.closed) return;
      const error = new EntityError(ErrorCode.disconnected, `no connection to ${this.url} for ${this.options.disconnectTimeoutMs} ms; the request was not answered`);
      this.failPending(error);
      this.live.failPending(error);
    }, this.options.disconnectTimeoutMs);
  }

  private failPending(error: EntityError): void {
    const pending = [...this.inflight.drain(), ...this.queue.drain()];
    for (const request of pending) request.reject(error);
  }

  private receive(frame: ServerFrame): void {
    this.handleFrame(frame);
    if (this.queue.size > 0) this.pump();
  }

  private handleFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case "ack":
        for (const id of frame.ids) this.answer(id, undefined);
        return;
      case "result":
        return this.answer(frame.id, frame.value);
      case "state":
        return this.answer(frame.id, { state: frame.state ?? null, version: frame.version });
      case "snapshot":
      case "patch":
        return this.live.receive(frame);
      case "error": {
        const error = new EntityError(frame.code, frame.message, frame.details);
        if (frame.ids !== undefined) for (const id of frame.ids) this.answerError(id, error); // one error for several requests
        if (frame.id !== undefined) return this.answerError(frame.id, error);
        if (frame.ids === undefined) this.options.onError(error);
        return;
      }
      case "welcome":
        return;
    }
  }

  private answer(id: number, value: unknown): void {
    this.inflight.take(id)?.resolve(value);
  }

  private answerError(id: number, error: EntityError): void {
    const pending = this.inflight.take(id);
    if (pending !== undefined) {
      pending.reject(error);
    } else if (!this.live.fail(id, error)) {
      this.options.onError(error);
    }
  }
}

/**
 * The input as JSON has it now: a request is encoded later (and again when resent), so an object the
 * caller changes after the call must not change what is sent. Primitives need no copy.
 */
function copyInput(input: unknown): unknown {
  if (typeof input !== "object" || input === null) return input;
  try {
    const text = JSON.stringify(input);
    return text === undefined ? undefined : JSON.parse(text);
  } catch (error) {
    return new EntityError(ErrorCode.bad_request, `the input cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
