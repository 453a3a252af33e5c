import { CloseCode, ErrorCode, encodeMessage, type SnapshotFrame } from "../../../protocol/index.js";
import type { EntityChange, EntityRuntime, Outcome } from "../../runtime/index.js";
import type { ConnectionSession, SubscriptionService } from "../connection-session.js";
import { encodeChange } from "./change-encoder.js";
import { EntityFeed, type Subscriber } from "./entity-feed.js";
import { FanOut } from "./fan-out.js";

/** A subscriber further behind than this many changes gets one snapshot instead. */
const MAX_CATCH_UP_CHANGES = 16;

export interface LiveStateOptions {
  /** Changes kept per entity for resubscribes (default 64). */
  readonly ringSize?: number;
  /** Past this many buffered bytes a subscriber gets no more patches until it drains (default 1 MiB). */
  readonly softBufferBytes?: number;
  /** Past this many buffered bytes the connection is closed with 4008 (default 16 MiB). */
  readonly hardBufferBytes?: number;
  /** How long a feed with no subscribers is kept for resubscribes (default 30 s). */
  readonly idleFeedMs?: number;
  /** Most feeds without subscribers kept for resubscribes (default 10,000); past it the oldest go. */
  readonly maxIdleFeeds?: number;
  /** Most entities one connection may subscribe to (default 10,000); more are refused with `overloaded`. */
  readonly maxSubscriptionsPerConnection?: number;
}

/**
 * Live entity state. Each committed change is encoded once (patch or snapshot) and the same bytes go
 * to every subscriber of that entity, a slice of subscribers per event-loop turn (see FanOut).
 * Subscribers that do not drain are skipped and resynced with one snapshot when they do; past a hard
 * cap their connection is closed.
 */
export class LiveStateHub implements SubscriptionService {
  private readonly feeds = new Map<string, EntityFeed>();
  /** Feeds without subscribers, the longest idle first. */
  private readonly idleFeeds = new Map<string, EntityFeed>();
  private readonly bySession = new Map<ConnectionSession, Set<string>>();
  private readonly ringSize: number;
  private readonly softBufferBytes: number;
  private readonly hardBufferBytes: number;
  private readonly idleFeedMs: number;
  private readonly maxIdleFeeds: number;
  private readonly maxSubscriptionsPerConnection: number;
  private readonly stopListening: () => void;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly fanOut = new FanOut();
  /** Connections with stalled subscriptions to look at again once their queue has left. */
  private readonly resyncScheduled = new Set<ConnectionSession>();

  constructor(
    private readonly runtime: EntityRuntime,
    options: LiveStateOptions = {},
  ) {
    this.ringSize = options.ringSize ?? 64;
    this.softBufferBytes = options.softBufferBytes ?? 1024 * 1024;
    this.hardBufferBytes = options.hardBufferBytes ?? 16 * 1024 * 1024;
    this.idleFeedMs = options.idleFeedMs ?? 30_000;
    this.maxIdleFeeds = options.maxIdleFeeds ?? 10_000;
    this.maxSubscriptionsPerConnection = options.maxSubscriptionsPerConnection ?? 10_000;
    this.stopListening = runtime.onChange((changes) => this.publish(changes));
    this.sweepTimer = setInterval(() => this.sweepIdleFeeds(), Math.max(1000, this.idleFeedMs / 2)).unref();
  }

  subscribe(session: ConnectionSession, requestId: number, entityId: string, fromVersion: number | undefined): void {
    const held = this.bySession.get(session);
    if (held !== undefined && held.size >= this.maxSubscriptionsPerConnection && !held.has(entityId)) {
      const message = `this connection already subscribes to ${this.maxSubscriptionsPerConnection} entities; unsubscribe from some first`;
      return session.reply(requestId, { kind: "error", code: ErrorCode.overloaded, message });
    }
    const feed = this.feedFor(entityId);
    const subscriber: Subscriber = { session, version: -1, awaitingSnapshot: true, stalled: false };
    this.answerReplaced(feed.subscribers.get(session));
    feed.subscribers.set(session, subscriber);
    feed.idleSince = undefined;
    this.idleFeeds.delete(entityId);
    let entities = this.bySession.get(session);
    if (!entities) this.bySession.set(session, (entities = new Set()));
    entities.add(entityId);

    const replay = fromVersion === undefined ? undefined : feed.changesSince(fromVersion);
    if (replay !== undefined) {
      subscriber.awaitingSnapshot = false;
      subscriber.version = feed.version;
      session.reply(requestId, { kind: "ack" });
      for (const message of replay) session.sendEncoded(message);
      return;
    }
    if (feed.known) return this.sendSnapshot(feed, subscriber, requestId);
    subscriber.pendingRequest = requestId;
    this.runtime.submit({ kind: "read", entityId, op: "", requestId, replyTo: { deliver: (id, outcome) => this.snapshotRead(feed, subscriber, id, outcome) } });
  }

  unsubscribe(session: ConnectionSession, requestId: number, entityId: string): void {
    this.remove(session, entityId);
    session.reply(requestId, { kind: "ack" });
  }

  /** The connection has room again: stalled subscriptions get fresh snapshots, as many as fit under the soft limit. */
  drained(session: ConnectionSession): void {
    this.resyncScheduled.delete(session);
    for (const entityId of this.bySession.get(session) ?? []) {
      const feed = this.feeds.get(entityId);
      const subscriber = feed?.subscribers.get(session);
      if (!feed || !subscriber?.stalled) continue;
      if (session.unsentBytes > this.softBufferBytes) return this.scheduleResync(session); // the rest once this much has left
      this.sendSnapshot(feed, subscriber, undefined);
    }
  }

  closed(session: ConnectionSession): void {
    for (const entityId of this.bySession.get(session) ?? []) this.remove(session, entityId);
    this.bySession.delete(session);
    this.resyncScheduled.delete(session);
  }

  /** The entities a connection subscribes to. */
  subscriptionsOf(session: ConnectionSession): Iterable<string> {
    return this.bySession.get(session) ?? [];
  }

  /** True while a feed knows a version of the entity (a subscriber, or an idle feed kept for a resubscribe). */
  isWatched(entityId: string): boolean {
    return this.feeds.has(entityId);
  }

  /** Every entity a feed follows now (cluster mode: those of other nodes' partitions get their changes relayed). */
  watchedEntities(): Iterable<string> {
    return this.feeds.keys();
  }

  /** Counts for tests and metrics: feeds, subscriptions, stalled subscriptions, largest outgoing buffer of a subscriber. */
  stats(): { feeds: number; subscriptions: number; stalled: number; maxBufferedBytes: number } {
    let subscriptions = 0;
    let stalled = 0;
    for (const feed of this.feeds.values()) {
      subscriptions += feed.subscribers.size;
      for (const subscriber of feed.subscribers.values()) if (subscriber.stalled) stalled++;
    }
    let maxBufferedBytes = 0;
    for (const session of this.bySession.keys()) maxBufferedBytes = Math.max(maxBufferedBytes, session.socket.bufferedAmount);
    return { feeds: this.feeds.size, subscriptions, stalled, maxBufferedBytes };
  }

  close(): void {
    this.stopListening();
    clearInterval(this.sweepTimer);
  }

  /**
   * Records each change in its feed (encoded once), then queues one catch-up per subscriber of each
   * changed feed that has none queued yet: a subscriber that falls behind costs one queued delivery,
   * however many versions it misses, and gets them all (or one snapshot) when its turn comes.
   */
  private publish(changes: readonly EntityChange[]): void {
    const changed = new Set<EntityFeed>();
    for (const change of changes) {
      const feed = this.feeds.get(change.entityId);
      if (!feed) continue;
      // The feed may already know this version from a newer subscriber's snapshot read (reads are
      // answered before changes are published); a subscriber still behind then gets a snapshot.
      feed.record(change.version, change.state, encodeChange(change));
      changed.add(feed);
    }
    for (const feed of changed) {
      for (const subscriber of feed.subscribers.values()) {
        if (subscriber.queued || subscriber.awaitingSnapshot || subscriber.stalled || subscriber.version >= feed.version) continue;
        subscriber.queued = true;
        subscriber.session.queueLive(() => this.catchUp(feed, subscriber));
        this.fanOut.add(subscriber.session);
      }
    }
  }

  /** At the subscriber's turn in the fan-out: the changes it misses (or a snapshot), or nothing (it moved on). */
  private catchUp(feed: EntityFeed, subscriber: Subscriber): void {
    subscriber.queued = false;
    if (feed.subscribers.get(subscriber.session) !== subscriber) return; // unsubscribed or replaced meanwhile
    if (subscriber.awaitingSnapshot || subscriber.stalled || subscriber.version >= feed.version) return;
    if (!this.hasRoom(subscriber)) return;
    const missed = feed.changesSince(subscriber.version);
    if (missed === undefined || missed.length > MAX_CATCH_UP_CHANGES) return this.sendSnapshot(feed, subscriber, undefined);
    subscriber.version = feed.version;
    for (const message of missed) subscriber.session.sendEncoded(message);
  }

  /** False when the subscriber's connection is over the soft limit (now stalled) or the hard cap (now closed). */
  private hasRoom(subscriber: Subscriber): boolean {
    const unsent = subscriber.session.unsentBytes;
    if (unsent > this.hardBufferBytes) {
      this.dropSlowConsumer(subscriber.session);
      return false;
    }
    if (unsent > this.softBufferBytes) {
      subscriber.stalled = true;
      this.scheduleResync(subscriber.session);
      return false;
    }
    return true;
  }

  /**
   * Stalled subscriptions wait for room. When what fills the connection is its own queue (about to
   * be written), look again once it has left: a socket that takes it all reports no drain. When the
   * socket itself holds it, its drain calls `drained`.
   */
  private scheduleResync(session: ConnectionSession): void {
    if (this.resyncScheduled.has(session) || session.socket.bufferedAmount > this.softBufferBytes) return;
    this.resyncScheduled.add(session);
    setImmediate(() => {
      if (this.resyncScheduled.has(session) && this.bySession.has(session)) this.drained(session);
    });
  }

  private snapshotRead(feed: EntityFeed, subscriber: Subscriber, requestId: number, outcome: Outcome): void {
    if (outcome.kind === "state") feed.learn(outcome.version, outcome.state);
    if (subscriber.pendingRequest !== requestId || feed.subscribers.get(subscriber.session) !== subscriber) return;
    subscriber.pendingRequest = undefined;
    if (!subscriber.awaitingSnapshot) return;
    if (outcome.kind === "state") return this.sendSnapshot(feed, subscriber, requestId);
    this.remove(subscriber.session, feed.entityId);
    subscriber.session.reply(requestId, outcome);
  }

  /**
   * Sends the feed's state now, or, when the connection is over the soft limit (many snapshots at
   * once), marks the subscriber stalled so that it gets the then-current state when it drains.
   */
  private sendSnapshot(feed: EntityFeed, subscriber: Subscriber, requestId: number | undefined): void {
    if (!this.hasRoom(subscriber)) {
      subscriber.deferredRequest ??= requestId;
      return;
    }
    const id = requestId ?? subscriber.deferredRequest;
    subscriber.awaitingSnapshot = false;
    subscriber.stalled = false;
    subscriber.deferredRequest = undefined;
    subscriber.version = feed.version;
    const frame: SnapshotFrame = { type: "snapshot", entity: feed.entityId, state: feed.state, version: feed.version };
    subscriber.session.sendEncoded(encodeMessage([id === undefined ? frame : { ...frame, id }]));
  }

  /** A subscribe still waiting for its snapshot (read or drain) is answered `ack` when it is replaced or cancelled. */
  private answerReplaced(subscriber: Subscriber | undefined): void {
    const requestId = subscriber?.pendingRequest ?? subscriber?.deferredRequest;
    if (requestId === undefined) return;
    subscriber!.pendingRequest = subscriber!.deferredRequest = undefined;
    subscriber!.session.reply(requestId, { kind: "ack" });
  }

  private dropSlowConsumer(session: ConnectionSession): void {
    session.send({ type: "error", code: ErrorCode.slow_consumer, message: "this connection did not read its live updates; closing it" });
    session.close(CloseCode.slowConsumer, "slow consumer");
    this.closed(session);
  }

  private feedFor(entityId: string): EntityFeed {
    let feed = this.feeds.get(entityId);
    if (!feed) this.feeds.set(entityId, (feed = new EntityFeed(entityId, this.ringSize)));
    return feed;
  }

  private remove(session: ConnectionSession, entityId: string): void {
    this.bySession.get(session)?.delete(entityId);
    const feed = this.feeds.get(entityId);
    if (!feed) return;
    this.answerReplaced(feed.subscribers.get(session));
    if (!feed.subscribers.delete(session) || feed.subscribers.size > 0) return;
    feed.idleSince = Date.now();
    this.idleFeeds.set(entityId, feed);
    if (this.idleFeeds.size > this.maxIdleFeeds) this.dropIdleFeed(this.idleFeeds.keys().next().value!);
  }

  private sweepIdleFeeds(): void {
    const now = Date.now();
    for (const [entityId, feed] of this.idleFeeds) {
      if (now - feed.idleSince! < this.idleFeedMs) break; // the rest went idle later
      this.dropIdleFeed(entityId);
    }
  }

  private dropIdleFeed(entityId: string): void {
    this.idleFeeds.delete(entityId);
    this.feeds.delete(entityId);
  }
}
