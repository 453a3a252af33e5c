import type { SubscribeFrame, UnsubscribeFrame } from "../protocol/client-frames.js";
import { EntityError, ErrorCode } from "../protocol/entity-error.js";
import type { PatchFrame, SnapshotFrame } from "../protocol/server-frames.js";
import { stepLiveState, type LiveState } from "./live-state.js";

/** What a live-state listener learns besides the state. */
export interface LiveStateInfo {
  readonly version: number;
  readonly entity: string;
  readonly kind: "snapshot" | "patch";
}

/** Called with each new state of a subscribed entity (null while it does not exist). */
export type LiveStateListener<S = unknown> = (state: S | null, info: LiveStateInfo) => void;

/** One subscribe() call's handle on an entity's live state. */
export interface Subscription<S = unknown> {
  readonly entity: string;
  /** Resolves with the first snapshot; rejects when the server refuses the subscription. */
  readonly ready: Promise<{ state: S | null; version: number }>;
  /** The latest state (undefined before the first snapshot). */
  readonly state: S | null | undefined;
  /** The latest version (0 before the first snapshot). */
  readonly version: number;
  /** Stops this listener; the last one to close unsubscribes on the server. */
  close(): Promise<void>;
}

/** How subscriptions reach the wire. */
export interface SubscriptionPort {
  nextId(): number;
  /** True when frames can be sent now; subscriptions made otherwise are sent by `resubscribeAll`. */
  isConnected(): boolean;
  send(frame: SubscribeFrame | UnsubscribeFrame): void;
  report(error: EntityError): void;
}

class EntityLiveState {
  current: LiveState | undefined;
  awaitingSnapshot = true;
  requestId = 0;
  readonly listeners = new Set<LiveStateListener>();
  readonly ready: Promise<LiveState>;
  settle!: (error?: EntityError) => void;

  constructor(readonly entity: string) {
    this.ready = new Promise<LiveState>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve(this.current as LiveState) : reject(error));
    });
    this.ready.catch(() => {});
  }
}

/** Live state for every subscribed entity of one client: one server subscription per entity, shared by its listeners. */
export class LiveSubscriptions {
  private readonly entities = new Map<string, EntityLiveState>();

  constructor(private readonly port: SubscriptionPort) {}

  subscribe<S>(entity: string, listener: LiveStateListener<S>): Subscription<S> {
    // A wrapper per call, so the same function subscribed twice gets two independent handles.
    const entry: LiveStateListener = (state, info) => listener(state as S | null, info);
    let live = this.entities.get(entity);
    if (live === undefined) {
      live = new EntityLiveState(entity);
      this.entities.set(entity, live);
      if (this.port.isConnected()) this.sendSubscribe(live);
    } else if (live.current !== undefined) {
      const joined = live;
      queueMicrotask(() => this.catchUp(joined, entry));
    }
    live.listeners.add(entry);
    return this.handle<S>(live, entry);
  }

  /** Applies a snapshot or patch to its entity's state and tells the listeners. */
  receive(frame: SnapshotFrame | PatchFrame): void {
    const live = this.entities.get(frame.entity);
    if (live === undefined) return;
    const step = stepLiveState(live.awaitingSnapshot ? undefined : live.current, frame);
    if (step.type === "gap") {
      live.awaitingSnapshot = true;
      if (this.port.isConnected()) this.sendSubscribe(live, false);
      return;
    }
    if (step.type === "ignore") return;
    const first = live.current === undefined;
    live.current = { state: step.state, version: step.version };
    live.awaitingSnapshot = false;
    if (first) live.settle();
    const info: LiveStateInfo = { version: step.version, entity: live.entity, kind: step.kind };
    for (const listener of live.listeners) this.notify(listener, step.state, info);
  }

  /** Handles an error answering a subscribe request; false when the id is not one. */
  fail(requestId: number, error: EntityError): boolean {
    for (const live of this.entities.values()) {
      if (live.requestId !== requestId) continue;
      this.entities.delete(live.entity);
      live.listeners.clear();
      if (live.current === undefined) live.settle(error);
      else this.port.report(error);
      return true;
    }
    return false;
  }

  /** After a reconnect: subscribes again, from the last version held. */
  resubscribeAll(): void {
    for (const live of this.entities.values()) this.sendSubscribe(live, !live.awaitingSnapshot);
  }

  /** Rejects the `ready` of every subscription still waiting for its first snapshot. */
  failPending(error: EntityError): void {
    for (const live of this.entities.values()) if (live.current === undefined) live.settle(error);
  }

  /** Drops every subscription (the client is closing). */
  closeAll(error: EntityError): void {
    this.failPending(error);
    for (const live of this.entities.values()) live.listeners.clear();
    this.entities.clear();
  }

  private sendSubscribe(live: EntityLiveState, fromLastVersion = false): void {
    live.requestId = this.port.nextId();
    const frame: SubscribeFrame = { type: "subscribe", id: live.requestId, entity: live.entity };
    if (fromLastVersion && live.current !== undefined) frame.fromVersion = live.current.version;
    this.port.send(frame);
  }

  private unsubscribe(live: EntityLiveState, listener: LiveStateListener): void {
    if (!live.listeners.delete(listener) || live.listeners.size > 0) return;
    if (this.entities.get(live.entity) !== live) return;
    this.entities.delete(live.entity);
    if (this.port.isConnected()) this.port.send({ type: "unsubscribe", id: this.port.nextId(), entity: live.entity });
  }

  // A listener that joined an entity already live gets its current state once.
  private catchUp(live: EntityLiveState, listener: LiveStateListener): void {
    if (live.current === undefined || !live.listeners.has(listener)) return;
    this.notify(listener, live.current.state, { version: live.current.version, entity: live.entity, kind: "snapshot" });
  }

  private notify(listener: LiveStateListener, state: unknown, info: LiveStateInfo): void {
    try {
      listener(state, info);
    } catch (error) {
      this.port.report(new EntityError(ErrorCode.internal, `a live-state listener for ${info.entity} threw: ${String(error)}`, error));
    }
  }

  private handle<S>(live: EntityLiveState, listener: LiveStateListener): Subscription<S> {
    const unsubscribe = () => this.unsubscribe(live, listener);
    return {
      entity: live.entity,
      ready: live.ready as Promise<{ state: S | null; version: number }>,
      get state() {
        return live.current?.state as S | null | undefined;
      },
      get version() {
        return live.current?.version ?? 0;
      },
      close() {
        unsubscribe();
        return Promise.resolve();
      },
    };
  }
}
