import { randomUUID } from "node:crypto";
import { ErrorCode, isEntityError, type ListFrame, type OrchestrationFrame } from "../../protocol/index.js";
import type { ClusterListings } from "../cluster/cluster-listings.js";
import { isReservedEventName, type OrchestrationHost } from "../orchestration/index.js";
import type { Outcome, ReplyTarget } from "../runtime/index.js";
import { listInstances } from "./instance-listing.js";

/** Watches of instances' status, as a connection uses them (the instance watch hub implements it). */
export interface InstanceWatchService {
  watch(session: WatchingSession, requestId: number, instanceId: string): void;
  unwatch(session: WatchingSession, requestId: number, instanceId: string): void;
  watchesOf(session: WatchingSession): Iterable<string>;
  closed(session: WatchingSession): void;
}

/** What the orchestration requests need of a connection: `deliver` answers a counted request, `reply` any other. */
export interface WatchingSession extends ReplyTarget {
  reply(requestId: number, outcome: Outcome): void;
  sendEncoded(message: string): void;
}

/**
 * A connection's orchestration requests: validated, then handed to the orchestration host as
 * instance requests (answered after their commit) or, for listings, read from the store.
 */
export class OrchestrationRequests {
  constructor(
    private readonly host: OrchestrationHost,
    private readonly watches: InstanceWatchService,
    /** Cluster mode: listings cover every partition, whichever node owns it. */
    private readonly listings?: ClusterListings,
  ) {}

  /** The instances a connection watches. */
  watchesOf(session: WatchingSession): Iterable<string> {
    return this.watches.watchesOf(session);
  }

  /** The connection closed: its watches end. */
  closed(session: WatchingSession): void {
    this.watches.closed(session);
  }

  /** Handles one request; `clientId` de-duplicates a resent start. Answers through `session`. */
  handle(session: WatchingSession, frame: OrchestrationFrame, clientId: string | undefined): void {
    const { host } = this;
    const replyTo = session;
    const requestId = frame.id;
    switch (frame.type) {
      case "start": {
        const unknown = host.check(frame.name);
        const problem = unknown ? { kind: "error" as const, code: unknown.code, message: unknown.message } : this.tooLarge("input", frame.input);
        if (problem) return session.deliver(requestId, problem);
        const instanceId = frame.instanceId ?? randomUUID();
        const sender = clientId === undefined ? undefined : { clientId, seq: requestId };
        return host.submit({ kind: "start", instanceId, name: frame.name, input: frame.input, depth: 0, sender, replyTo, requestId });
      }
      case "raise": {
        if (isReservedEventName(frame.event)) {
          return session.deliver(requestId, { kind: "error", code: ErrorCode.bad_request, message: `event names starting with "@" are reserved (entity answers and lock grants); got ${JSON.stringify(frame.event.slice(0, 64))}` });
        }
        const problem = this.tooLarge("event data", frame.data);
        if (problem) return session.deliver(requestId, problem);
        const event = { type: "EventRaised" as const, timestamp: 0, name: frame.event, ...(frame.data === undefined ? {} : { input: frame.data }) };
        return host.submit({ kind: "event", instanceId: frame.instanceId, event, replyTo, requestId });
      }
      case "terminate":
      case "suspend":
      case "resume":
        return host.submit({ kind: frame.type, instanceId: frame.instanceId, reason: frame.reason, replyTo, requestId });
      case "rewind":
        return host.submit({ kind: "rewind", instanceId: frame.instanceId, reason: frame.reason, replyTo, requestId });
      case "purge":
        return host.submit({ kind: "purge", instanceId: frame.instanceId, replyTo, requestId });
      case "status":
        return host.submit({ kind: "read", instanceId: frame.instanceId, history: frame.history, historyFrom: frame.historyFrom, replyTo, requestId });
      case "list":
        if (this.listings) return void this.listAcross(this.listings, frame).then((outcome) => session.deliver(requestId, outcome));
        return session.deliver(requestId, this.list(frame));
      case "watch":
        return this.watches.watch(session, requestId, frame.instanceId);
      case "unwatch":
        return this.watches.unwatch(session, requestId, frame.instanceId);
    }
  }

  private list(frame: ListFrame) {
    try {
      return { kind: "result" as const, value: listInstances(this.host, frame) };
    } catch (error) {
      return { kind: "error" as const, code: ErrorCode.bad_request, message: (error as Error).message };
    }
  }

  /** The cluster's listing: a bad continuation is `bad_request`; a partition whose owner did not answer, its coded error. */
  private async listAcross(listings: ClusterListings, frame: ListFrame): Promise<Outcome> {
    try {
      return { kind: "result", value: await listings.listInstances(frame) };
    } catch (error) {
      if (isEntityError(error)) return { kind: "error", code: error.code, message: error.message };
      return { kind: "error", code: ErrorCode.bad_request, message: (error as Error).message };
    }
  }

  private tooLarge(what: string, value: unknown) {
    if (value === undefined) return undefined;
    const bytes = JSON.stringify(value).length;
    const max = this.host.limits.maxPayloadBytes;
    if (bytes <= max) return undefined;
    return { kind: "error" as const, code: ErrorCode.payload_too_large, message: `the ${what} is ${bytes} bytes of JSON; the limit is ${max}` };
  }
}
