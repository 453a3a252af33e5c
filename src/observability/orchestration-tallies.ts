import type { Counter, Histogram } from "prom-client";
import { UNKNOWN_LABEL, type ExecutionEnd, type OrchestrationMeter } from "./meters.js";

/** The metrics an {@link OrchestrationTallies} adds to. */
export interface OrchestrationMetrics {
  readonly started: Counter<"name">;
  readonly finished: Counter<"name" | "status">;
  readonly activityDuration: Histogram<"name" | "outcome">;
  readonly activityFailures: Counter<"name">;
}

/**
 * Orchestration executions and activities, by name: only names the app defines become labels (an
 * instance started under a name the app lacks counts as {@link UNKNOWN_LABEL}). These happen at most
 * a few thousand times a second, so they go to prom-client directly.
 */
export class OrchestrationTallies implements OrchestrationMeter {
  private readonly orchestrations = new Set<string>();
  private readonly activities = new Set<string>();

  constructor(private readonly metrics: OrchestrationMetrics) {}

  /** Knows the app's orchestrations and activities (again for each hub: the same app). */
  define(orchestrations: Iterable<string>, activities: Iterable<string>): this {
    for (const name of orchestrations) this.orchestrations.add(name);
    for (const name of activities) this.activities.add(name);
    return this;
  }

  started(name: string): void {
    this.metrics.started.inc({ name: this.orchestrationLabel(name) });
  }

  finished(name: string, end: ExecutionEnd): void {
    this.metrics.finished.inc({ name: this.orchestrationLabel(name), status: end });
  }

  activityRan(name: string, ok: boolean, seconds: number): void {
    const label = this.activities.has(name) ? name : UNKNOWN_LABEL;
    this.metrics.activityDuration.observe({ name: label, outcome: ok ? "ok" : "failed" }, seconds);
    if (!ok) this.metrics.activityFailures.inc({ name: label });
  }

  private orchestrationLabel(name: string): string {
    return this.orchestrations.has(name) ? name : UNKNOWN_LABEL;
  }
}
