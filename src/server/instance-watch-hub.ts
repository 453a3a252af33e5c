import { ErrorCode } from "../../protocol/index.js";
import type { InstanceChange, OrchestrationHost } from "../orchestration/index.js";
import type { Outcome } from "../runtime/index.js";
import type { InstanceWatchService, WatchingSession } from "./orchestration-requests.js";

/** Most instances one connection may watch at once. */
const MAX_WATCHES_PER_CONNECTION = 10_000;

/**
 * Live status of orchestration instances: a watcher gets the status now (`instance` frame answering
 * its `watch`), then one `instance` frame per committed change, in commit order, through the same
 * ordered outgoing queue as its answers.
 */
export class InstanceWatchHub implements InstanceWatchService {
  private readonly watchers = new Map<string, Set<WatchingSession>>();
  private readonly bySession = new Map<WatchingSession, Set<string>>();
  private readonly stopListening: () => void;

  constructor(private readonly host: OrchestrationHost) {
    this.stopListening = host.onChange((changes) => this.publish(changes));
  }

  watch(session: WatchingSession, requestId: number, instanceId: string): void {
    let watched = this.bySession.get(session);
    if (watched !== undefined && watched.size >= MAX_WATCHES_PER_CONNECTION && !watched.has(instanceId)) {
      const message = `this connection already watches ${MAX_WATCHES_PER_CONNECTION} instances; unwatch some first`;
      return session.reply(requestId, { kind: "error", code: ErrorCode.overloaded, message });
    }
    if (!watched) this.bySession.set(session, (watched = new Set()));
    watched.add(instanceId);
    let sessions = this.watchers.get(instanceId);
    if (!sessions) this.watchers.set(instanceId, (sessions = new Set()));
    sessions.add(session);
    // The current status, read in order with the instance's turns; changes after it are pushed.
    this.host.submit({
      kind: "read",
      instanceId,
      requestId,
      replyTo: {
        deliver: (id: number, outcome: Outcome) => {
          if (outcome.kind !== "result") return session.reply(id, outcome);
          session.sendEncoded(JSON.stringify({ type: "instance", id, instanceId, status: outcome.value }));
        },
      },
    });
  }

  unwatch(session: WatchingSession, requestId: number, instanceId: string): void {
    this.remove(session, instanceId);
    session.reply(requestId, { kind: "ack" });
  }

  /** Every instance watched now (cluster mode: those of other nodes' partitions get their changes relayed). */
  watchedInstances(): Iterable<string> {
    return this.watchers.keys();
  }

  /** The instances a connection watches. */
  watchesOf(session: WatchingSession): Iterable<string> {
    return this.bySession.get(session) ?? [];
  }

  closed(session: WatchingSession): void {
    for (const instanceId of this.bySession.get(session) ?? []) this.remove(session, instanceId);
    this.bySession.delete(session);
  }

  close(): void {
    this.stopListening();
  }

  private publish(changes: readonly InstanceChange[]): void {
    for (const change of changes) {
      const sessions = this.watchers.get(change.instanceId);
      if (!sessions) continue;
      const message = JSON.stringify({ type: "instance", instanceId: change.instanceId, status: change.status });
      for (const session of sessions) session.sendEncoded(message);
    }
  }

  private remove(session: WatchingSession, instanceId: string): void {
    this.bySession.get(session)?.delete(instanceId);
    const sessions = this.watchers.get(instanceId);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size === 0) this.watchers.delete(instanceId);
  }
}
