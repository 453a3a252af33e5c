import { createLogger } from "../../../src/log.js";
import { OrchestrationHost, type InstanceRecord, type OrchestrationDefinition } from "../../../src/orchestration/index.js";
import { CommitPipeline, EntityRuntime, type Clock, type EntityDefinition, type LockHolderCheck } from "../../../src/runtime/index.js";
import { LmdbStore, type MailboxAddress, type MailboxMessage, type TimerAddress, type WriteBatch } from "../../../src/storage/index.js";

export interface NodeApp {
  readonly entities: readonly EntityDefinition[];
  readonly orchestrations: readonly OrchestrationDefinition[];
}

export interface CrashableNodeOptions {
  /** The commit of this number (1 = the first of this incarnation) and every later one are lost. */
  readonly crashAtCommit?: number;
  readonly clock?: Clock;
  /** Entities and instances kept in memory (small ones make them load, and replay, from the store often). */
  readonly maxCachedEntities?: number;
  readonly maxCachedInstances?: number;
  /** Replaces the check of whether a lock's holder still runs (to break the lock protocol on purpose, in a test of the test). */
  readonly lockHolderCheck?: (isRunning: LockHolderCheck) => LockHolderCheck;
}

/**
 * A real commit pipeline, EntityRuntime and OrchestrationHost over a real LmdbStore on a directory,
 * wired as the server wires them, that can "crash": from a chosen commit on (counted in this
 * incarnation), no commit reaches the disk (that one and every later one fail, as if the process had
 * died before they were durable); then `crash()` drops the runtime and host without closing them
 * and closes the store, so that a new node can open the same directory, as a restarted process would.
 */
export class CrashableNode {
  /** Commits that reached the disk in this incarnation. */
  commits = 0;
  /** True once the crash point was reached (nothing is written from then on). */
  crashed = false;
  private readonly onCrash: Array<() => void> = [];

  private constructor(
    readonly store: LmdbStore,
    readonly pipeline: CommitPipeline,
    readonly runtime: EntityRuntime,
    readonly host: OrchestrationHost,
    private readonly dead: { value: boolean },
  ) {}

  /**
   * Opens a node on `dir` and starts it (its mailboxes and timers recovered). With `crashAtCommit`,
   * the commit of that number (1 = the first of this incarnation) and every later one are lost.
   */
  static async open(dir: string, app: NodeApp, options: CrashableNodeOptions = {}): Promise<CrashableNode> {
    const real = await LmdbStore.open({ path: dir });
    const dead = { value: false };
    let node: CrashableNode | undefined;
    let count = 0;
    const store = Object.create(real) as LmdbStore;
    store.commit = (batch: WriteBatch) => {
      count++;
      if (dead.value || (options.crashAtCommit !== undefined && count >= options.crashAtCommit)) {
        if (!dead.value) {
          dead.value = true;
          node?.markCrashed();
        }
        return Promise.reject(new Error("crashed: this commit never reached the disk"));
      }
      return real.commit(batch).then(() => {
        if (node) node.commits++;
      });
    };
    const log = createLogger("silent");
    const pipeline = new CommitPipeline({ store, log, ...(options.clock ? { clock: options.clock } : {}), onFatal: () => {} });
    const runtime = new EntityRuntime({ store, pipeline, entities: app.entities, log, ...(options.maxCachedEntities === undefined ? {} : { maxCachedEntities: options.maxCachedEntities }) });
    const host = new OrchestrationHost({ pipeline, orchestrations: app.orchestrations, activities: [], log, ...(options.maxCachedInstances === undefined ? {} : { maxCachedInstances: options.maxCachedInstances }) });
    const isRunning: LockHolderCheck = (holder) => host.isRunning(holder);
    runtime.lockHolderCheck = options.lockHolderCheck?.(isRunning) ?? isRunning;
    node = new CrashableNode(real, pipeline, runtime, host, dead);
    runtime.start();
    host.start();
    return node;
  }

  /** Resolves when the crash point is reached (never, without one). */
  whenCrashed(): Promise<void> {
    if (this.crashed) return Promise.resolve();
    return new Promise((resolve) => this.onCrash.push(resolve));
  }


  /** Every durable message not yet applied, in every partition. */
  mailbox(): Array<[MailboxAddress, MailboxMessage]> {
    return this.store.localPartitions.flatMap((partition) => [...this.store.readMailbox(partition)]);
  }

  /** Every durable timer still stored (orchestration timers and scheduled signals), due or not. */
  timers(): Array<[TimerAddress, unknown]> {
    return this.store.localPartitions.flatMap((partition) => [...this.store.readDueTimers(partition, Number.MAX_SAFE_INTEGER, 100_000)]);
  }

  private markCrashed(): void {
    this.crashed = true;
    for (const resolve of this.onCrash.splice(0)) resolve();
  }

  /** Starts an orchestration instance (not durable until its turn commits; a crash may lose it). */
  start(instanceId: string, name: string, input: unknown): void {
    this.host.submit({ kind: "start", instanceId, name, input, depth: 0 });
  }

  /** An instance's committed record. */
  instance(instanceId: string): InstanceRecord | undefined {
    return this.store.readInstance(instanceId) as InstanceRecord | undefined;
  }

  /** The process dies: nothing more is written, nothing is closed cleanly; the store is freed for the next node. */
  async crash(): Promise<void> {
    this.dead.value = true;
    this.crashed = true;
    await this.runtime.abort();
    this.host.stop();
    await this.store.close();
  }

  /** A clean stop: everything queued is made durable first. */
  async close(): Promise<void> {
    await this.runtime.close();
    this.host.stop();
    await this.store.close();
  }
}
