import { EntityRuntime, type EntityChange, type EntityDefinition, type EntityRuntimeOptions, type OperationRequest, type Outcome } from "../../../src/runtime/index.js";
import { createLogger } from "../../../src/log.js";
import type { LmdbStore, MailboxAddress, MailboxMessage } from "../../../src/storage/index.js";
import { TempStores } from "./temp-dir.js";

type RuntimeTuning = Omit<EntityRuntimeOptions, "store" | "entities" | "log">;

/**
 * A real EntityRuntime over a real LmdbStore on a temporary directory. `restart` closes both and opens
 * new ones on the same directory, as a process restart would.
 */
export class RuntimeHarness {
  private readonly stores = new TempStores();
  readonly dir: string;
  store!: LmdbStore;
  runtime!: EntityRuntime;
  private runtimeClosed = false;

  private constructor(
    private readonly entities: readonly EntityDefinition[],
    private readonly tuning: RuntimeTuning,
  ) {
    this.dir = this.stores.newDir();
  }

  static async open(entities: readonly EntityDefinition[], tuning: RuntimeTuning = {}): Promise<RuntimeHarness> {
    const harness = new RuntimeHarness(entities, tuning);
    await harness.openOnDir({ start: false });
    return harness;
  }

  /** Waits until everything queued is durable, closes runtime and store, and opens new ones on the same directory. */
  async restart(options: { start?: boolean } = {}): Promise<void> {
    await this.closeRuntimeAndStore();
    await this.openOnDir({ start: options.start ?? true });
  }

  /** Closes the runtime (waiting until all it queued is durable) and the store. */
  async closeRuntimeAndStore(): Promise<void> {
    if (!this.runtimeClosed) await this.runtime.close();
    this.runtimeClosed = true;
    await this.stores.closeStore(this.store);
  }

  /** Opens only a store on the directory (the runtime's must be closed first). */
  async openStoreOnly(): Promise<LmdbStore> {
    this.store = await this.stores.openStore(this.dir);
    return this.store;
  }

  /** Every message waiting in every partition's mailbox of the current store. */
  mailbox(): Array<[MailboxAddress, MailboxMessage]> {
    return this.store.localPartitions.flatMap((partition) => [...this.store.readMailbox(partition)]);
  }

  async dispose(): Promise<void> {
    if (!this.runtimeClosed) await this.runtime.close();
    this.runtimeClosed = true;
    await this.stores.dispose();
  }

  private async openOnDir(options: { start: boolean }): Promise<void> {
    this.store = await this.stores.openStore(this.dir);
    this.runtime = new EntityRuntime({ ...this.tuning, store: this.store, entities: this.entities, log: createLogger("silent") });
    this.runtimeClosed = false;
    if (options.start) this.runtime.start();
  }
}

let lastRequestId = 0;

/** Submits a request with a ReplyTarget that resolves the returned promise with the outcome. */
export function submit(runtime: EntityRuntime, request: Omit<OperationRequest, "replyTo" | "requestId">): Promise<Outcome> {
  const requestId = ++lastRequestId;
  return new Promise<Outcome>((resolve, reject) => {
    runtime.submit({
      ...request,
      requestId,
      replyTo: {
        deliver(id, outcome) {
          if (id === requestId) resolve(outcome);
          else reject(new Error(`outcome for request ${id} delivered to request ${requestId}`));
        },
      },
    });
  });
}

export function signal(
  runtime: EntityRuntime,
  entityId: string,
  op: string,
  input?: unknown,
  sender?: { clientId: string; seq: number },
): Promise<Outcome> {
  return submit(runtime, { kind: "signal", entityId, op, input, ...(sender ? { sender } : {}) });
}

export function call(runtime: EntityRuntime, entityId: string, op: string, input?: unknown): Promise<Outcome> {
  return submit(runtime, { kind: "call", entityId, op, input });
}

export function read(runtime: EntityRuntime, entityId: string): Promise<Outcome> {
  return submit(runtime, { kind: "read", entityId, op: "" });
}

/** The state and version a `read` answers; fails the test when the answer is not a state. */
export async function readState(runtime: EntityRuntime, entityId: string): Promise<{ state: unknown; version: number }> {
  const outcome = await read(runtime, entityId);
  if (outcome.kind !== "state") throw new Error(`read of ${entityId} answered ${JSON.stringify(outcome)}`);
  return { state: outcome.state, version: outcome.version };
}

/** Resolves with the first durable change of `entityId` that satisfies `accept`. */
export function nextChange(runtime: EntityRuntime, entityId: string, accept: (change: EntityChange) => boolean = () => true): Promise<EntityChange> {
  return new Promise((resolve) => {
    const stop = runtime.onChange((changes) => {
      const change = changes.find((c) => c.entityId === entityId && accept(c));
      if (change) {
        stop();
        resolve(change);
      }
    });
  });
}

/** Resolves with the state of `entityId` once a read shows `accept` holds (reads again after each of its changes). */
export async function waitForState(runtime: EntityRuntime, entityId: string, accept: (state: unknown) => boolean): Promise<unknown> {
  for (;;) {
    const changed = nextChange(runtime, entityId);
    const { state } = await readState(runtime, entityId);
    if (accept(state)) return state;
    await changed;
  }
}
