import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { InstanceFrame, UnwatchFrame, WatchFrame } from "../protocol/orchestration-frames.js";
import type { InstanceStatus, InstanceWatch } from "./orchestration-types.js";

/** How watches reach the wire. */
export interface WatchPort {
  nextId(): number;
  /** True when frames can be sent now; watches made otherwise are sent by `rewatchAll`. */
  isConnected(): boolean;
  send(frame: WatchFrame | UnwatchFrame): void;
  report(error: EntityError): void;
}

/** One listener of a watched instance. */
export interface WatchListener {
  /** Each status, in commit order: the current one first, then one per committed change (null: no such instance, or purged). */
  status(status: InstanceStatus | null): void;
  /** The watch ended: the server refused it, the client closed, or (with `failOnDisconnect`) no connection came back in time. */
  failed?(error: EntityError): void;
  /** End with `failed` when the client stays disconnected past its timeout, instead of resuming after the reconnect. */
  readonly failOnDisconnect?: boolean;
}

class WatchedInstance {
  current: { status: InstanceStatus | null } | undefined;
  requestId = 0;
  readonly listeners = new Set<WatchListener>();
  readonly ready: Promise<InstanceStatus | null>;
  settle!: (error?: EntityError) => void;

  constructor(readonly instanceId: string) {
    this.ready = new Promise((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve(this.current?.status ?? null) : reject(error));
    });
    this.ready.catch(() => {});
  }
}

/**
 * Live status of every watched instance of one client: one server watch per instance, shared by its
 * listeners, sent again after a reconnect (the listeners then get the current status again).
 */
export class InstanceWatches {
  private readonly instances = new Map<string, WatchedInstance>();

  constructor(private readonly port: WatchPort) {}

  watch(instanceId: string, listener: WatchListener): InstanceWatch {
    let watched = this.instances.get(instanceId);
    if (watched === undefined) {
      watched = new WatchedInstance(instanceId);
      this.instances.set(instanceId, watched);
      if (this.port.isConnected()) this.sendWatch(watched);
    } else if (watched.current !== undefined) {
      const joined = watched;
      queueMicrotask(() => this.catchUp(joined, listener));
    }
    watched.listeners.add(listener);
    return this.handle(watched, listener);
  }

  /** A status pushed for a watched instance (or the answer to its watch). */
  receive(frame: InstanceFrame): void {
    const watched = this.instances.get(frame.instanceId);
    if (watched === undefined) return; // unwatched; the server had sent it before the unwatch arrived
    const status = frame.status as InstanceStatus | null;
    const first = watched.current === undefined;
    watched.current = { status };
    if (first) watched.settle();
    for (const listener of [...watched.listeners]) this.notify(listener, status, watched.instanceId);
  }

  /** Handles an error answering a watch request; false when the id is not one. */
  fail(requestId: number, error: EntityError): boolean {
    for (const watched of this.instances.values()) {
      if (watched.requestId !== requestId) continue;
      this.instances.delete(watched.instanceId);
      const listeners = [...watched.listeners];
      watched.listeners.clear();
      if (watched.current === undefined) watched.settle(error);
      else if (listeners.some((listener) => !listener.failed)) this.port.report(error); // a plain watch has no other way to learn it ended
      for (const listener of listeners) listener.failed?.(error);
      return true;
    }
    return false;
  }

  /** After a reconnect: watches every instance again (its current status comes first). */
  rewatchAll(): void {
    for (const watched of this.instances.values()) this.sendWatch(watched);
  }

  /** No connection came back in time: `ready` fails where no status came yet, and so do the listeners that asked to. */
  failPending(error: EntityError): void {
    for (const watched of [...this.instances.values()]) {
      if (watched.current === undefined) watched.settle(error);
      for (const listener of [...watched.listeners]) {
        if (!listener.failOnDisconnect) continue;
        this.unwatch(watched, listener);
        listener.failed?.(error);
      }
    }
  }

  /** Drops every watch (the client is closing). */
  closeAll(error: EntityError): void {
    const all = [...this.instances.values()];
    this.instances.clear();
    for (const watched of all) {
      if (watched.current === undefined) watched.settle(error);
      const listeners = [...watched.listeners];
      watched.listeners.clear();
      for (const listener of listeners) listener.failed?.(error);
    }
  }

  private sendWatch(watched: WatchedInstance): void {
    watched.requestId = this.port.nextId();
    this.port.send({ type: "watch", id: watched.requestId, instanceId: watched.instanceId });
  }

  private unwatch(watched: WatchedInstance, listener: WatchListener): void {
    if (!watched.listeners.delete(listener) || watched.listeners.size > 0) return;
    if (this.instances.get(watched.instanceId) !== watched) return;
    this.instances.delete(watched.instanceId);
    if (this.port.isConnected()) this.port.send({ type: "unwatch", id: this.port.nextId(), instanceId: watched.instanceId });
  }

  // A listener that joined an instance already watched gets its current status once.
  private catchUp(watched: WatchedInstance, listener: WatchListener): void {
    if (watched.current === undefined || !watched.listeners.has(listener)) return;
    this.notify(listener, watched.current.status, watched.instanceId);
  }

  private notify(listener: WatchListener, status: InstanceStatus | null, instanceId: string): void {
    try {
      listener.status(status);
    } catch (error) {
      this.port.report(new EntityError(ErrorCode.internal, `a status listener for instance ${instanceId} threw: ${String(error)}`, error));
    }
  }

  private handle(watched: WatchedInstance, listener: WatchListener): InstanceWatch {
    const unwatch = () => this.unwatch(watched, listener);
    return {
      instanceId: watched.instanceId,
      ready: watched.current === undefined ? watched.ready : Promise.resolve(watched.current.status),
      get status() {
        return watched.current?.status;
      },
      close() {
        unwatch();
        return Promise.resolve();
      },
    };
  }
}
