import type { FailureDetails, HistoryEvent } from "./history-events.js";

/** Where an instance is in its life (Durable Functions' runtimeStatus). */
export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "Suspended";

/** The statuses of an instance that is still going (a start with its id is refused). */
export function isActive(status: RuntimeStatus): boolean {
  return status === "Pending" || status === "Running" || status === "Suspended";
}

/** The instance that started this one as a sub-orchestration, and how to answer it. */
export interface ParentLink {
  readonly instanceId: string;
  /** The parent's action id: its SubOrchestrationInstanceCreated event. */
  readonly taskId: number;
  /** The parent's execution (a result for an older one is ignored). */
  readonly generation: number;
}

/** What is stored for an instance (beside its history). Times are epoch ms. */
export interface InstanceRecord {
  readonly name: string;
  status: RuntimeStatus;
  input?: unknown;
  output?: unknown;
  failure?: FailureDetails;
  customStatus?: unknown;
  readonly createdTime: number;
  lastUpdatedTime: number;
  readonly parent?: ParentLink;
  /** How deep in sub-orchestrations it runs (0 for one a client started). */
  readonly depth: number;
  /** Which execution this is (continue-as-new starts the next). */
  generation: number;
  /** Events in the current execution's history. */
  historyLength: number;
  /** Events that arrived and wait for a turn: while suspended, or the next execution's start after continue-as-new. */
  inbox?: HistoryEvent[];
  /** Entities the current execution holds or is acquiring in a critical section (released when it ends). */
  locks?: string[];
  /** The client request that created it (a resend of that request is answered as the first time). */
  readonly createdBy?: readonly [clientId: string, seq: number];
}

/** What clients are told about an instance. */
export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly runtimeStatus: RuntimeStatus;
  readonly input: unknown;
  readonly output: unknown;
  readonly customStatus: unknown;
  /** ISO-8601 UTC. */
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly failureDetails?: FailureDetails;
  readonly parentInstanceId?: string;
}

export function statusOf(instanceId: string, record: InstanceRecord): InstanceStatus {
  const status: InstanceStatus = {
    name: record.name,
    instanceId,
    runtimeStatus: record.status,
    input: record.input ?? null,
    output: record.output ?? null,
    customStatus: record.customStatus ?? null,
    createdTime: new Date(record.createdTime).toISOString(),
    lastUpdatedTime: new Date(record.lastUpdatedTime).toISOString(),
  };
  return {
    ...status,
    ...(record.failure ? { failureDetails: record.failure } : {}),
    ...(record.parent ? { parentInstanceId: record.parent.instanceId } : {}),
  };
}
