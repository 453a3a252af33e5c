import type { CallFrame, ClientRequest, GetFrame, SignalFrame } from "../protocol/client-frames.js";
import type { FailuresFrame } from "../protocol/failure-frames.js";
import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { ServerFrame } from "../protocol/server-frames.js";
import type { DurableClient, EntitySnapshot, SignalOptions } from "./client-api.js";
import type { ResolvedClientOptions } from "./client-options.js";
import { Connection, type ConnectionEvents } from "./connection.js";
import { createEntityProxy, type EntityProxy } from "./entity-proxy.js";
import type { FailurePage, FailureQuery } from "./failure-types.js";
import { InstanceWatches } from "./instance-watches.js";
import { copyInput } from "./json-input.js";
import { OrchestrationCalls, type OrchestrationRequest } from "./orchestration-calls.js";
import { EntityQueryCalls, type CleanEntitiesOptions, type CleanEntitiesResult, type DeleteEntityResult, type EntityQuery, type EntityQueryRequest } from "./entity-queries.js";
import type { InstanceQuery, InstanceStatusListener, OrchestrationDefinitionShape, StartOptions, WaitOptions } from "./orchestration-types.js";
import { PendingRequest } from "./pending-request.js";
import { PendingTable } from "./pending-table.js";
import { RequestQueue } from "./request-queue.js";
import { isResentAfterReconnect, lostInFlight } from "./resend-policy.js";
import { LiveSubscriptions, type LiveStateListener, type Subscription } from "./subscription.js";

/** Requests answered by id (subscribe, watch and their undoing are tracked by their own registries). */
type Answered = SignalFrame | CallFrame | GetFrame | FailuresFrame | EntityQueryRequest | OrchestrationRequest;

type PendingAnswer = PendingRequest<Answered>;

/** The client behind `connect()`: request ids, answers, the disconnected queue and reconnection policy. */
export class DurableClientSession implements DurableClient {
  readonly clientId: string;
  private nextRequestId = 1;
  private readonly inflight = new PendingTable<PendingAnswer>();
  private readonly queue: RequestQueue<PendingAnswer>;
  private readonly connection: Connection;
  private readonly live: LiveSubscriptions;
  private readonly watches: InstanceWatches;
  private readonly orchestrations: OrchestrationCalls;
  private readonly entityQueries: EntityQueryCalls;
  private isConnected = false;
  /** The server's limit on unanswered requests (from `welcome`); more wait in the queue. */
  private window = Number.POSITIVE_INFINITY;
  private everConnected = false;
  /** Why the server last refused this client (its token was revoked): requests fail with it at once until it is admitted again. */
  private accessRefused: EntityError | undefined;
  private closed = false;
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopping: Promise<void> | undefined;
  /** The server URL (or the list of a cluster's nodes), for messages. */
  private readonly url: string;
  private firstConnection: { resolve(): void; reject(error: EntityError): void } | undefined;

  constructor(
    urls: readonly string[],
    private readonly options: ResolvedClientOptions,
  ) {
    this.url = urls.join(", ");
    this.clientId = options.clientId;
    this.queue = new RequestQueue(options.maxQueuedRequests);
    this.connection = new Connection(urls, options, this.connectionEvents());
    const port = {
      nextId: () => this.nextRequestId++,
      isConnected: () => this.isConnected,
      send: (frame: ClientRequest) => this.connection.send(frame),
      report: options.onError,
    };
    this.live = new LiveSubscriptions(port);
    this.watches = new InstanceWatches(port);
    this.entityQueries = new EntityQueryCalls({ nextId: () => this.nextRequestId++, request: (frame) => this.request(frame) });
    this.orchestrations = new OrchestrationCalls({
      nextId: () => this.nextRequestId++,
      request: (frame) => this.request(frame),
      watch: (instanceId, listener) => this.liveHandle(() => this.watches.watch(instanceId, listener)),
    });
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Connects for the first time: resolves on the first `welcome`, retrying until `connectTimeoutMs`. */
  open(): Promise<void> {
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

  signal(entityId: string, operation: string, input?: unknown, options?: SignalOptions): Promise<void> {
    const copy = copyInput(input);
    if (copy instanceof EntityError) return Promise.reject(copy);
    const at = options?.at === undefined ? undefined : options.at instanceof Date ? options.at.getTime() : options.at;
    if (at !== undefined && !Number.isFinite(at)) return Promise.reject(new EntityError(ErrorCode.bad_request, `signal: "at" must be a Date or epoch milliseconds; got ${String(options!.at)}`));
    return this.request({ type: "signal", id: this.nextRequestId++, entity: entityId, op: operation, input: copy, ...(at === undefined ? {} : { at }) });
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
    return this.liveHandle(() => this.live.subscribe(entityId, listener));
  }

  failures(query: FailureQuery = {}): Promise<FailurePage> {
    const frame: FailuresFrame = { type: "failures", id: this.nextRequestId++ };
    if (query.entityType !== undefined) frame.entityType = query.entityType;
    if (query.limit !== undefined) frame.limit = query.limit;
    if (query.before !== undefined) frame.before = query.before;
    return this.request(frame);
  }

  // Entity queries (entity-queries.ts): callers see EntityQueryClient's generic signature.
  listEntities(query: EntityQuery<any>): Promise<any> { return this.entityQueries.listEntities(query); }
  deleteEntity(entityId: string): Promise<DeleteEntityResult> { return this.entityQueries.deleteEntity(entityId); }
  cleanEntities(options?: CleanEntitiesOptions): Promise<CleanEntitiesResult> { return this.entityQueries.cleanEntities(options); }

  // Orchestrations (orchestration-calls.ts): callers see OrchestrationClient's generic signatures; these pass values through.
  start(orchestration: string | OrchestrationDefinitionShape, input?: unknown, options?: StartOptions): Promise<string> { return this.orchestrations.start(orchestration, input, options); }
  status(instanceId: string): Promise<any> { return this.orchestrations.status(instanceId); }
  waitForCompletion(instanceId: string, options?: WaitOptions): Promise<any> { return this.orchestrations.waitForCompletion(instanceId, options); }
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void> { return this.orchestrations.raiseEvent(instanceId, eventName, data); }
  terminate(instanceId: string, reason?: unknown): Promise<void> { return this.orchestrations.terminate(instanceId, reason); }
  suspend(instanceId: string, reason?: unknown): Promise<void> { return this.orchestrations.suspend(instanceId, reason); }
  resume(instanceId: string, reason?: unknown): Promise<void> { return this.orchestrations.resume(instanceId, reason); }
  rewind(instanceId: string, reason?: unknown): Promise<void> { return this.orchestrations.rewind(instanceId, reason); }
  purge(instanceId: string) { return this.orchestrations.purge(instanceId); }
  list(query?: InstanceQuery) { return this.orchestrations.list(query); }
  history(instanceId: string) { return this.orchestrations.history(instanceId); }
  watch(instanceId: string, listener: InstanceStatusListener<any>): any { return this.orchestrations.watch(instanceId, listener as InstanceStatusListener); }

  /** A subscription or watch; made while disconnected, its `ready` fails like a request if no connection comes back in time. */
  private liveHandle<H>(make: () => H): H {
    if (this.closed) throw new EntityError(ErrorCode.disconnected, "the client is closed");
    const handle = make();
    if (!this.isConnected) this.armDisconnectTimer();
    return handle;
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
    this.watches.closeAll(error);
    this.firstConnection?.reject(new EntityError(ErrorCode.disconnected, "the client was closed before it connected"));
    return this.stopping;
  }

  private request<T>(frame: Answered): Promise<T> {
    if (this.closed) return Promise.reject(new EntityError(ErrorCode.disconnected, "the client is closed"));
    if (!this.isConnected && this.accessRefused) return Promise.reject(this.accessRefused);
    const pending: PendingAnswer = new PendingRequest(frame);
    const promise = pending.promise as Promise<T>;
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
        if (this.firstConnection !== undefined && !this.everConnected) return this.firstConnection.reject(error);
        this.options.onError(error);
        // Refused after it was connected (its token was revoked, say): retrying will not get an answer
        // sooner, so what waits fails now with the reason; reconnection goes on, in case access comes back.
        if (error.code === ErrorCode.unauthorized || error.code === ErrorCode.forbidden) {
          this.accessRefused = error; // until a connection is admitted again
          this.failPending(error);
          this.live.failPending(error);
          this.watches.failPending(error);
        }
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
    this.accessRefused = undefined;
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
    this.watches.rewatchAll();
    this.pump();
    this.firstConnection?.resolve();
    this.options.onConnectionChange(true);
  }

  private connectionDropped(): void {
    if (this.closed) return;
    this.isConnected = false;
    const lost = [...this.inflight.values()].filter((pending) => !isResentAfterReconnect(pending.frame));
    for (const pending of lost) {
      this.inflight.take(pending.frame.id);
      pending.reject(lostInFlight(pending.frame));
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
      this.watches.failPending(error);
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
      case "instance":
        return this.watches.receive(frame);
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
    } else if (!this.live.fail(id, error) && !this.watches.fail(id, error)) {
      this.options.onError(error);
    }
  }
}
