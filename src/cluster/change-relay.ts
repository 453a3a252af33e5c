import type { Msg, NatsConnection, Subscription } from "nats";
import { errorMessage, type Logger } from "../log.js";
import type { EntityChange, EntityRuntime, Outcome } from "../runtime/index.js";
import type { InstanceChange, OrchestrationHost } from "../orchestration/index.js";
import type { LmdbStore } from "../storage/index.js";
import { partitionLogAddress } from "./log-names.js";
import { guarded, isRecord, isRecordArray, isStringArray, jsonOf } from "./nats-payloads.js";

/** What this node follows live (its live-state feeds, its instance watches), whatever node owns it. */
export interface FollowedIds {
  entities(): Iterable<string>;
  instances(): Iterable<string>;
}

/** Which ids of its partitions a node follows, announced to their owners. */
interface Interest {
  readonly entities: string[];
  readonly instances: string[];
}

/** How often a node announces what it follows on other nodes (and so how long a new owner may wait to hear it). */
const ANNOUNCE_MS = 1_000;
/** An id nobody announced for this long is no longer relayed. */
const INTEREST_MS = 5_000;
/** Ids per announcement message (a node following many sends several). */
const IDS_PER_ANNOUNCEMENT = 5_000;

const encoder = new TextEncoder();

/**
 * Live state and instance watches across nodes. A node whose clients follow an entity or instance of
 * a partition it does not own announces it, every second, to the hub's interest subject; the owner
 * relays each committed change of what someone follows to the partition's changes subject, which
 * every node listens to and hands to its own listeners (live state, watches), as if the change were
 * its own. A newly announced id gets its current state relayed at once, so a follower that missed
 * changes meanwhile (the partition moved after a node died) catches up. Nothing is relayed for what
 * nobody follows: the owner's commits pay nothing for it.
 */
export class ChangeRelay {
  private readonly interest = new Map<string, number>();
  private readonly subscriptions: Subscription[] = [];
  private readonly announcer: NodeJS.Timeout;
  private readonly stopListening: Array<() => void> = [];
  /** `de.<hub>`: the hub's subjects start with it. */
  private readonly prefix: string;

  constructor(
    private readonly connection: NatsConnection,
    hub: string,
    private readonly store: LmdbStore,
    private readonly runtime: EntityRuntime,
    private readonly host: OrchestrationHost | undefined,
    private readonly followed: FollowedIds,
    private readonly log: Logger,
  ) {
    const prefix = (this.prefix = partitionLogAddress(hub, 0).subject.replace(/\.log\.0$/, ""));
    const onError = (error: unknown) => log.warn("a live change message could not be handled", { error: errorMessage(error) });
    this.subscriptions.push(connection.subscribe(`${prefix}.interest`, { callback: guarded((error: Error | null, message: Msg) => error || this.interested(message), onError) }));
    this.subscriptions.push(connection.subscribe(`${prefix}.changes.*`, { callback: guarded((error: Error | null, message: Msg) => error || this.relayed(message), onError) }));
    this.stopListening.push(runtime.onChange((changes) => this.relay(changes.filter((change) => this.isFollowed("e", change.entityId)), "entities")));
    if (host) this.stopListening.push(host.onChange((changes) => this.relay(changes.filter((change) => this.isFollowed("i", change.instanceId)), "instances")));
    this.announcer = setInterval(() => this.announce(), ANNOUNCE_MS);
  }

  stop(): void {
    clearInterval(this.announcer);
    for (const stop of this.stopListening) stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  /** True while a client of another node follows the entity (its node announced it within the last few seconds). */
  isEntityFollowed(entityId: string): boolean {
    return this.isFollowed("e", entityId);
  }

  private isFollowed(kind: "e" | "i", id: string): boolean {
    const until = this.interest.get(`${kind}:${id}`);
    return until !== undefined && until > Date.now();
  }

  /** Owner side: publishes followed changes, one message per partition. */
  private relay(changes: ReadonlyArray<EntityChange | InstanceChange>, kind: "entities" | "instances"): void {
    if (changes.length === 0) return;
    const byPartition = new Map<number, Array<EntityChange | InstanceChange>>();
    for (const change of changes) {
      const partition = this.store.partitionOf("entityId" in change ? change.entityId : change.instanceId);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(change);
    }
    for (const [partition, list] of byPartition) this.publish(`${this.prefix}.changes.${partition}`, { [kind]: list });
  }

  /** Follower side: what this node follows on other nodes, announced. */
  private announce(): void {
    const entities = [...this.followed.entities()].filter((id) => !this.store.isLocal(id));
    const instances = [...this.followed.instances()].filter((id) => !this.store.isLocal(id));
    for (let at = 0; at < Math.max(entities.length, instances.length); at += IDS_PER_ANNOUNCEMENT) {
      const interest: Interest = { entities: entities.slice(at, at + IDS_PER_ANNOUNCEMENT), instances: instances.slice(at, at + IDS_PER_ANNOUNCEMENT) };
      this.publish(`${this.prefix}.interest`, interest);
    }
  }

  /** Owner side: an announcement; ids of this node's partitions are relayed from now on (new ones with their current state). */
  private interested(message: Msg): void {
    const interest = jsonOf(message);
    if (!isRecord(interest) || !isStringArray(interest.entities ?? []) || !isStringArray(interest.instances ?? [])) return;
    const entities = (interest.entities ?? []) as string[];
    const instances = (interest.instances ?? []) as string[];
    if (entities.length + instances.length > 2 * IDS_PER_ANNOUNCEMENT) return;
    const until = Date.now() + INTEREST_MS;
    for (const id of entities) {
      if (!this.store.isLocal(id) || this.runtime.registry.check(id) !== undefined) continue;
      const isNew = !this.isFollowed("e", id);
      this.interest.set(`e:${id}`, until);
      if (isNew) this.runtime.submit({ kind: "read", entityId: id, op: "", replyTo: { deliver: (_id, outcome) => this.relayState(id, outcome) } });
    }
    for (const id of instances) {
      if (!this.store.isLocal(id) || this.host === undefined) continue;
      const isNew = !this.isFollowed("i", id);
      this.interest.set(`i:${id}`, until);
      if (isNew) this.host.submit({ kind: "read", instanceId: id, replyTo: { deliver: (_id, outcome) => outcome.kind === "result" && this.relay([{ instanceId: id, status: outcome.value as InstanceChange["status"] }], "instances") } });
    }
    if (this.interest.size > 100_000) for (const [key, expires] of this.interest) if (expires <= Date.now()) this.interest.delete(key);
  }

  private relayState(entityId: string, outcome: Outcome): void {
    if (outcome.kind !== "state") return;
    this.relay([{ entityId, version: outcome.version, state: outcome.state, previousState: null }], "entities");
  }

  /** Follower side: changes another node relayed; handed to this node's listeners for what it does not own. */
  private relayed(message: Msg): void {
    const changes = jsonOf(message);
    if (!isRecord(changes) || !isRecordArray(changes.entities ?? []) || !isRecordArray(changes.instances ?? [])) return;
    const entities = ((changes.entities ?? []) as unknown as EntityChange[]).filter((change) => typeof change.entityId === "string" && Number.isSafeInteger(change.version) && !this.store.isLocal(change.entityId));
    const instances = ((changes.instances ?? []) as unknown as InstanceChange[]).filter((change) => typeof change.instanceId === "string" && !this.store.isLocal(change.instanceId));
    if (entities.length > 0) this.runtime.relayChanges(entities);
    if (instances.length > 0) this.host?.relayChanges(instances);
  }

  private publish(subject: string, body: unknown): void {
    try {
      this.connection.publish(subject, encoder.encode(JSON.stringify(body)));
    } catch (error) {
      this.log.warn("relaying live changes failed", { subject, error: errorMessage(error) });
    }
  }

}
