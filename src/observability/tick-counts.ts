import type { EntityMeter, ExecutionEnd, OperationTally, OrchestrationMeter } from "./meters.js";

/**
 * What one tick's turns counted, held until the tick's commit is durable: a tick whose commit fails
 * counts nothing (its requests were refused, and the work is handed out again after the reset, to be
 * counted when it commits). `apply` adds the counts to the meter; a failed tick just drops this.
 */
export class TickOperationCounts {
  private readonly tallies = new Map<string, PendingTally>();

  constructor(private readonly meter: EntityMeter) {}

  tallyOf(entityType: string): OperationTally {
    let tally = this.tallies.get(entityType);
    if (tally === undefined) {
      tally = new PendingTally();
      this.tallies.set(entityType, tally);
    }
    return tally;
  }

  /** The tick is durable: its counts are added. */
  apply(): void {
    for (const [entityType, pending] of this.tallies) pending.applyTo(this.meter.tallyOf(entityType));
  }
}

/** One entity type's operations of one tick, in the order they ran. */
class PendingTally implements OperationTally {
  private readonly operations: string[] = [];
  private readonly failed: boolean[] = [];
  private readonly seconds: number[] = [];
  private reads = 0;

  ran(operation: string, failed: boolean, seconds: number): void {
    this.operations.push(operation);
    this.failed.push(failed);
    this.seconds.push(seconds);
  }

  read(): void {
    this.reads++;
  }

  applyTo(tally: OperationTally): void {
    for (let i = 0; i < this.operations.length; i++) tally.ran(this.operations[i]!, this.failed[i]!, this.seconds[i]!);
    for (let i = 0; i < this.reads; i++) tally.read();
  }
}

/** The executions one tick's instance turns started and finished, held until the tick is durable (see {@link TickOperationCounts}). */
export class TickExecutionCounts implements Pick<OrchestrationMeter, "started" | "finished"> {
  private readonly events: Array<[name: string, end: ExecutionEnd | undefined]> = [];

  constructor(private readonly meter: OrchestrationMeter) {}

  started(name: string): void {
    this.events.push([name, undefined]);
  }

  finished(name: string, end: ExecutionEnd): void {
    this.events.push([name, end]);
  }

  /** The tick is durable: its counts are added. */
  apply(): void {
    for (const [name, end] of this.events) {
      if (end === undefined) this.meter.started(name);
      else this.meter.finished(name, end);
    }
  }
}
