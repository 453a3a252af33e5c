import type { Counter } from "prom-client";
import type { EntityDefinition } from "../runtime/define-entity.js";
import { UNKNOWN_LABEL, type EntityMeter, type OperationTally } from "./meters.js";
import type { HistogramTally, TallyHistogram } from "./tally-histogram.js";

/** The operation label of every operation of a type defined by one dispatch function (its names are whatever clients send). */
export const DISPATCH_LABEL = "(dispatch)";
/** The operation label of reads of the state (`get`, and live state's first snapshot). */
export const READ_LABEL = "(read)";

type Outcome = "ok" | "error" | "rejected";
const OUTCOMES: readonly Outcome[] = ["ok", "error", "rejected"];

/** One (entity type, operation) pair's counts by outcome. */
class OperationCounts {
  ok = 0;
  error = 0;
  rejected = 0;

  constructor(readonly operation: string) {}
}

/** One entity type's counts, by the operations it defines (any other name counts as {@link UNKNOWN_LABEL}). */
class TypeTally implements OperationTally {
  private readonly byOperation = new Map<string, OperationCounts>();
  private readonly other: OperationCounts;
  private readonly reads = new OperationCounts(READ_LABEL);

  constructor(
    readonly entityType: string,
    /** Undefined for a dispatch-function type: all its operations count under {@link DISPATCH_LABEL}. */
    operations: readonly string[] | undefined,
    private readonly durations: HistogramTally,
  ) {
    for (const operation of operations ?? []) this.byOperation.set(operation, new OperationCounts(operation));
    this.other = new OperationCounts(operations === undefined ? DISPATCH_LABEL : UNKNOWN_LABEL);
  }

  ran(operation: string, failed: boolean, seconds: number): void {
    const counts = this.countsOf(operation);
    if (failed) counts.error++;
    else counts.ok++;
    this.durations.observe(seconds);
  }

  read(): void {
    this.reads.ok++;
  }

  rejected(operation: string): void {
    this.countsOf(operation).rejected++;
  }

  /** Every pair with its counts, for the scrape. */
  *all(): Iterable<OperationCounts> {
    yield* this.byOperation.values();
    yield this.other;
    yield this.reads;
  }

  private countsOf(operation: string): OperationCounts {
    return this.byOperation.get(operation) ?? this.other;
  }
}

/**
 * Operations by entity type, operation and outcome, and their durations by type: plain counters the
 * runtime adds to (no label hashing per operation), copied into the prom-client counter when the
 * registry is read. Labels are bounded: types and operations the app defines, and fixed labels for
 * the rest. Every hub of a server (each has the same app) adds to the same tallies.
 */
export class OperationTallies implements EntityMeter {
  private readonly types = new Map<string, TypeTally>();
  private readonly unknown: TypeTally;

  constructor(
    private readonly counter: Counter<"entity_type" | "operation" | "outcome">,
    private readonly durations: TallyHistogram,
  ) {
    this.unknown = new TypeTally(UNKNOWN_LABEL, [], durations.tally({ entity_type: UNKNOWN_LABEL }));
  }

  /** Knows the app's entity types (again for each hub: a type already known keeps its tally). */
  define(definitions: Iterable<EntityDefinition>): this {
    for (const definition of definitions) {
      if (this.types.has(definition.name)) continue;
      const operations = definition.kind === "operations" ? Object.keys(definition.operations) : undefined;
      this.types.set(definition.name, new TypeTally(definition.name, operations, this.durations.tally({ entity_type: definition.name })));
    }
    return this;
  }

  tallyOf(entityType: string): OperationTally {
    return this.types.get(entityType) ?? this.unknown;
  }

  rejected(entityId: string, operation: string): void {
    const slash = entityId.indexOf("/");
    const tally = slash < 0 ? this.unknown : (this.types.get(entityId.slice(0, slash)) ?? this.unknown);
    tally.rejected(operation);
  }

  /** The counter's `collect`: its values become the tallies' totals (outcomes that never happened are left out). */
  copyToCounter(): void {
    this.counter.reset();
    for (const tally of [...this.types.values(), this.unknown]) {
      for (const counts of tally.all()) {
        for (const outcome of OUTCOMES) {
          const value = counts[outcome];
          if (value > 0) this.counter.inc({ entity_type: tally.entityType, operation: counts.operation, outcome }, value);
        }
      }
    }
  }
}
