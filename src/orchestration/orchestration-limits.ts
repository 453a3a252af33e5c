/** Guard rails against runaway orchestrations (eternal loops without continue-as-new, runaway fan-outs). */
export interface OrchestrationLimits {
  /** Most events in one execution's history (default 100,000); past it the instance fails with `limit_exceeded`. */
  readonly maxHistoryEvents: number;
  /** Most tasks one instance may have open at once (default 50,000). */
  readonly maxOpenTasks: number;
  /** Deepest nesting of sub-orchestrations (default 16). */
  readonly maxDepth: number;
  /** Largest input, output, event payload or activity result, as JSON (default 1 MiB). */
  readonly maxPayloadBytes: number;
}

export const DEFAULT_ORCHESTRATION_LIMITS: OrchestrationLimits = {
  maxHistoryEvents: 100_000,
  maxOpenTasks: 50_000,
  maxDepth: 16,
  maxPayloadBytes: 1024 * 1024,
};
