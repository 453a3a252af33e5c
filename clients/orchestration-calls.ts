import { EntityError, ErrorCode, isEntityError } from "../protocol/entity-error.js";
import type { ControlFrame, ListFrame, PurgeFrame, RaiseFrame, StartFrame, StatusFrame } from "../protocol/orchestration-frames.js";
import type { HistoryEvent } from "./history-event.js";
import type { WatchListener } from "./instance-watches.js";
import { copyInput } from "./json-input.js";
import type {
  FinishedInstanceStatus,
  InstancePage,
  InstanceQuery,
  InstanceStatus,
  InstanceStatusListener,
  InstanceWatch,
  OrchestrationDefinitionShape,
  OrchestrationNameOf,
  PurgeResult,
  StartArgs,
  StartOptions,
  WaitOptions,
} from "./orchestration-types.js";
import { waitForCompletion } from "./wait-for-completion.js";

/** The orchestration half of `DurableClient`. */
export interface OrchestrationClient {
  /**
   * Starts an orchestration; resolves with its instance id once the start is durable. By definition
   * (`client.start(HelloSequence, input)`) or by name, typed with a type-only import:
   * `client.start<typeof HelloSequence>("HelloSequence", input)`. Rejects with `instance_exists`
   * while an instance with the given id runs, `unknown_orchestration` for a name the server does not define.
   */
  start<D extends OrchestrationDefinitionShape>(definition: D, ...args: StartArgs<D>): Promise<string>;
  start<D = unknown>(name: OrchestrationNameOf<D>, ...args: StartArgs<D>): Promise<string>;
  /** The instance's committed status, null when there is no such instance. */
  status<D = unknown>(instanceId: string): Promise<InstanceStatus<D> | null>;
  /**
   * Resolves with the status once the instance is Completed, Failed or Terminated (it watches; it does
   * not poll). Rejects with `not_found` when there is no such instance (or it is purged meanwhile),
   * `limit_exceeded` after `timeoutMs` (the error's details hold the last status), and `disconnected`
   * when no connection comes back within the client's `disconnectTimeoutMs`.
   */
  waitForCompletion<D = unknown>(instanceId: string, options?: WaitOptions): Promise<FinishedInstanceStatus<D>>;
  /** Raises an external event; resolves once durable. Rejects with `not_found`, or `instance_finished` when it has ended. */
  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void>;
  /** Ends a running instance; its status becomes Terminated, with `reason` (a JSON value) as its output. */
  terminate(instanceId: string, reason?: unknown): Promise<void>;
  /** Pauses a running instance: what arrives for it waits until it is resumed. */
  suspend(instanceId: string, reason?: unknown): Promise<void>;
  resume(instanceId: string, reason?: unknown): Promise<void>;
  /**
   * Rewinds a Failed instance (Durable Functions' rewind): the failures that failed it are taken back,
   * their activities run again (failed sub-orchestrations are rewound too), and it goes on from there;
   * resolves once the rewind is durable (the instance is Running again). Rejects with `invalid_state`
   * when it has not failed (or failed where a rewind cannot help: inside a critical section, or waiting
   * for an entity call), `not_found` when there is no such instance. An instance that failed in its own
   * code, not on a task, has nothing to retry: its rewind replays the code, which fails it again
   * unless the code deployed now no longer throws there.
   */
  rewind(instanceId: string, reason?: unknown): Promise<void>;
  /** Deletes a finished instance and its history (`instancesDeleted: 0` when there was none). Rejects with `instance_exists` while it runs. */
  purge(instanceId: string): Promise<PurgeResult>;
  /** One page of instances matching the query; follow `continuation` for the rest. */
  list(query?: InstanceQuery): Promise<InstancePage>;
  /** The current execution's history events, oldest first. Rejects with `not_found` when there is no such instance. */
  history(instanceId: string): Promise<HistoryEvent[]>;
  /**
   * Live status: the listener gets the status now, then after every committed change; after a
   * reconnect it gets the current status again. Watches of one instance share one server watch.
   */
  watch<D = unknown>(instanceId: string, listener: InstanceStatusListener<D>): InstanceWatch<D>;
}

/** Orchestration requests as the client sends them. */
export type OrchestrationRequest = StartFrame | RaiseFrame | ControlFrame | PurgeFrame | StatusFrame | ListFrame;

/** What the orchestration calls need from a client. */
export interface OrchestrationPort {
  nextId(): number;
  /** Sends a request (or queues it while disconnected) and resolves with its answer's value. */
  request<T>(frame: OrchestrationRequest): Promise<T>;
  watch(instanceId: string, listener: WatchListener): InstanceWatch;
}

/** The orchestration methods of a client, over its requests and watches. */
export class OrchestrationCalls {
  constructor(private readonly port: OrchestrationPort) {}

  start(orchestration: string | OrchestrationDefinitionShape, input?: unknown, options: StartOptions = {}): Promise<string> {
    const copy = copyInput(input);
    if (copy instanceof EntityError) return Promise.reject(copy);
    const name = typeof orchestration === "string" ? orchestration : orchestration.name;
    // The client picks the id: a start resent after a reconnect must name the same instance to be recognised.
    const instanceId = options.instanceId ?? globalThis.crypto.randomUUID();
    const frame: StartFrame = { type: "start", id: this.port.nextId(), name, instanceId };
    if (copy !== undefined) frame.input = copy;
    return this.port.request<{ instanceId: string }>(frame).then((value) => value.instanceId);
  }

  status(instanceId: string): Promise<InstanceStatus | null> {
    return this.port.request({ type: "status", id: this.port.nextId(), instanceId });
  }

  waitForCompletion(instanceId: string, options: WaitOptions = {}): Promise<FinishedInstanceStatus> {
    return waitForCompletion((listener) => this.port.watch(instanceId, listener), instanceId, options);
  }

  raiseEvent(instanceId: string, eventName: string, data?: unknown): Promise<void> {
    const copy = copyInput(data, "event data");
    if (copy instanceof EntityError) return Promise.reject(copy);
    const frame: RaiseFrame = { type: "raise", id: this.port.nextId(), instanceId, event: eventName };
    if (copy !== undefined) frame.data = copy;
    return this.port.request(frame);
  }

  terminate(instanceId: string, reason?: unknown): Promise<void> {
    return this.control("terminate", instanceId, reason);
  }

  suspend(instanceId: string, reason?: unknown): Promise<void> {
    return this.control("suspend", instanceId, reason);
  }

  resume(instanceId: string, reason?: unknown): Promise<void> {
    return this.control("resume", instanceId, reason);
  }

  rewind(instanceId: string, reason?: unknown): Promise<void> {
    return this.control("rewind", instanceId, reason);
  }

  purge(instanceId: string): Promise<PurgeResult> {
    return this.port.request<PurgeResult>({ type: "purge", id: this.port.nextId(), instanceId }).catch((error: unknown) => {
      if (isEntityError(error) && error.code === ErrorCode.not_found) return { instancesDeleted: 0 };
      throw error;
    });
  }

  list(query: InstanceQuery = {}): Promise<InstancePage> {
    const frame: ListFrame = { type: "list", id: this.port.nextId() };
    if (query.runtimeStatus !== undefined) frame.runtimeStatus = [...query.runtimeStatus];
    if (query.name !== undefined) frame.name = query.name;
    if (query.createdFrom !== undefined) frame.createdFrom = epochMs(query.createdFrom);
    if (query.createdTo !== undefined) frame.createdTo = epochMs(query.createdTo);
    if (query.instanceIdPrefix !== undefined) frame.instanceIdPrefix = query.instanceIdPrefix;
    if (query.pageSize !== undefined) frame.pageSize = query.pageSize;
    if (query.continuation !== undefined) frame.continuation = query.continuation;
    return this.port.request(frame);
  }

  async history(instanceId: string): Promise<HistoryEvent[]> {
    // The server answers a page at a time (at most 1,000 events, about 1 MiB): follow historyNext to the end.
    const events: HistoryEvent[] = [];
    let from: number | undefined = 0;
    while (from !== undefined) {
      type Page = InstanceStatus & { history?: HistoryEvent[]; historyNext?: number };
      const page: Page | null = await this.port.request<Page | null>({ type: "status", id: this.port.nextId(), instanceId, history: true, ...(from > 0 ? { historyFrom: from } : {}) });
      if (page === null) throw new EntityError(ErrorCode.not_found, `no orchestration instance "${instanceId}"`);
      events.push(...(page.history ?? []));
      from = page.historyNext;
    }
    return events;
  }

  watch(instanceId: string, listener: InstanceStatusListener): InstanceWatch {
    return this.port.watch(instanceId, { status: listener });
  }

  private control(type: ControlFrame["type"], instanceId: string, reason: unknown): Promise<void> {
    const copy = copyInput(reason, "reason");
    if (copy instanceof EntityError) return Promise.reject(copy);
    const frame: ControlFrame = { type, id: this.port.nextId(), instanceId };
    if (copy !== undefined) frame.reason = copy;
    return this.port.request(frame);
  }
}

function epochMs(value: Date | number): number {
  return typeof value === "number" ? value : value.getTime();
}
