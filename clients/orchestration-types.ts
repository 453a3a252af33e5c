// The client's orchestration types, written by hand and structural: nothing is imported from the
// server (the client runs in browsers too). test/unit/clients/orchestration-types.types.test.ts
// holds them against the server's definitions and statuses.

/** The shape of what `defineOrchestration` returns, as far as typed calls need it. */
export interface OrchestrationDefinitionShape {
  readonly kind: "orchestration";
  readonly name: string;
  readonly orchestrator: (ctx: any, input: any) => Generator<unknown, unknown, any>;
}

/** An orchestration's input type: the second parameter of its orchestrator (`unknown` for an untyped name). */
export type OrchestrationInput<D> = D extends { readonly kind: "orchestration"; readonly orchestrator: (ctx: any, input: infer I) => unknown } ? I : unknown;

/** An orchestration's output type: what its generator returns (`unknown` for an untyped name). */
export type OrchestrationOutput<D> = D extends { readonly kind: "orchestration"; readonly orchestrator: (...args: any[]) => Generator<unknown, infer O, any> } ? O : unknown;

/** An orchestration's name: the definition's literal name, any string for an untyped call. */
export type OrchestrationNameOf<D> = D extends { readonly kind: "orchestration"; readonly name: infer N extends string } ? N : string;

/** What `start` takes besides the input. */
export interface StartOptions {
  /** The instance id (default: a new random UUID, chosen by the client so that a resent start names the same instance). */
  readonly instanceId?: string;
}

/** The arguments of `start` after the name: the input is optional only when the orchestration accepts `undefined`. */
export type StartArgs<D> = undefined extends OrchestrationInput<D>
  ? [input?: OrchestrationInput<D>, options?: StartOptions]
  : [input: OrchestrationInput<D>, options?: StartOptions];

/** Where an instance is in its life (Durable Functions' runtimeStatus). */
export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "Suspended";

/** The statuses an instance ends in. */
export type FinishedRuntimeStatus = "Completed" | "Failed" | "Terminated";

/** Why an instance (or one of its tasks) failed. */
export interface FailureDetails {
  /** The error's name (`Error`, `TypeError`, `ActivityFailed`, …) or a code such as `non_determinism`. */
  readonly errorType: string;
  readonly message: string;
  /** The failed task's name, when a task's failure failed the instance. */
  readonly taskName?: string;
  readonly details?: unknown;
  /** The failure this one wraps (an activity's own error inside ActivityFailed). */
  readonly inner?: FailureDetails;
}

/** What every status says, whatever the runtime status. Times are ISO-8601 UTC. */
interface InstanceStatusFields<D> {
  readonly name: OrchestrationNameOf<D>;
  readonly instanceId: string;
  /** The input of the current execution (null when it was started without one). */
  readonly input: OrchestrationInput<D>;
  /** What the code last passed to `setCustomStatus` (null when nothing). */
  readonly customStatus: unknown;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly failureDetails?: FailureDetails;
  /** Set for a sub-orchestration: the instance that started it. */
  readonly parentInstanceId?: string;
}

export interface CompletedInstanceStatus<D = unknown> extends InstanceStatusFields<D> {
  readonly runtimeStatus: "Completed";
  /** What the orchestrator returned (null for undefined). */
  readonly output: OrchestrationOutput<D>;
}

export interface FailedInstanceStatus<D = unknown> extends InstanceStatusFields<D> {
  readonly runtimeStatus: "Failed";
  readonly output: null;
  readonly failureDetails: FailureDetails;
}

export interface TerminatedInstanceStatus<D = unknown> extends InstanceStatusFields<D> {
  readonly runtimeStatus: "Terminated";
  /** The reason given to `terminate` (null when none). */
  readonly output: unknown;
}

export interface ActiveInstanceStatus<D = unknown> extends InstanceStatusFields<D> {
  readonly runtimeStatus: "Pending" | "Running" | "Suspended";
  readonly output: null;
}

/** The status of an instance that has ended: narrow on `runtimeStatus` for a typed `output`. */
export type FinishedInstanceStatus<D = unknown> = CompletedInstanceStatus<D> | FailedInstanceStatus<D> | TerminatedInstanceStatus<D>;

/**
 * An orchestration instance's status (Durable Functions' shape). Typed by the definition:
 * `client.status<typeof HelloSequence>(id)`; `output` is the orchestrator's return type once
 * `runtimeStatus` is "Completed".
 */
export type InstanceStatus<D = unknown> = FinishedInstanceStatus<D> | ActiveInstanceStatus<D>;

/** Which instances `list` returns; every field narrows the listing. */
export interface InstanceQuery {
  readonly runtimeStatus?: readonly RuntimeStatus[];
  /** The orchestration's name, exactly. */
  readonly name?: string;
  /** Created at or after (a Date, or epoch ms). */
  readonly createdFrom?: Date | number;
  /** Created at or before (a Date, or epoch ms). */
  readonly createdTo?: Date | number;
  readonly instanceIdPrefix?: string;
  /** Most instances in the page (default 100, at most 1,000). A page may hold fewer and still have a continuation. */
  readonly pageSize?: number;
  /** From the previous page, to read the next. */
  readonly continuation?: string;
}

/** One page of a listing: pass `continuation` back for the next page (absent on the last one). */
export interface InstancePage {
  readonly instances: InstanceStatus[];
  readonly continuation?: string;
}

/** What `purge` did. */
export interface PurgeResult {
  /** 1 when the instance was deleted, 0 when there was no such instance. */
  readonly instancesDeleted: number;
}

/** What `waitForCompletion` takes. */
export interface WaitOptions {
  /** Give up after this long (default: wait as long as it takes). */
  readonly timeoutMs?: number;
}

/** Called with an instance's status now and after every committed change (null: no such instance, or purged). */
export type InstanceStatusListener<D = unknown> = (status: InstanceStatus<D> | null) => void;

/** One watch() call's handle on an instance's status. */
export interface InstanceWatch<D = unknown> {
  readonly instanceId: string;
  /** Resolves with the first status (null when there is no such instance); rejects when the server refuses the watch. */
  readonly ready: Promise<InstanceStatus<D> | null>;
  /** The latest status (undefined before the first). */
  readonly status: InstanceStatus<D> | null | undefined;
  /** Stops this listener; the last one of the instance to close unwatches on the server. */
  close(): Promise<void>;
}
