import type { FailureDetails, OrchestratorAction } from "../../../../src/orchestration/index.js";
import type { Arrival, TestHost } from "./test-host.js";

/** A fake entity operation: `(state, input) => [newState, result]`; throw to fail with operation_failed. */
export type FakeOperation = (state: any, input: any) => [state: unknown, result?: unknown];

/** Fake entity types by name: operations and the initial state. */
export type FakeEntityTypes = Record<string, { readonly initial: () => unknown; readonly operations: Record<string, FakeOperation> }>;

/** Accounts: `deposit(n)`, `withdraw(n)` (throws when funds are short), `get`. */
export const fakeAccounts: FakeEntityTypes = {
  Account: {
    initial: () => 0,
    operations: {
      deposit: (balance: number, amount: number) => [balance + amount, balance + amount],
      withdraw: (balance: number, amount: number) => {
        if (amount > balance) throw new Error(`insufficient funds: ${balance} < ${amount}`);
        return [balance - amount, balance - amount];
      },
      get: (balance: number) => [balance, balance],
    },
  },
};

/**
 * Plays the entities for one orchestration driven by a TestHost: applies its signals, answers its
 * calls and grants its locks (at once: nothing else holds them), turn after turn.
 */
export class FakeEntities {
  readonly states = new Map<string, unknown>();
  /** Every message the entities got, in order: `Account/a deposit 5`, `lock Account/a,Account/b`, … */
  readonly log: string[] = [];

  constructor(readonly types: FakeEntityTypes = fakeAccounts) {}

  /** Applies the last turn's signals, then answers what is open, one turn at a time, until nothing is left to answer. */
  drive(host: TestHost, maxTurns = 100): void {
    for (let turn = 0; turn < maxTurns && host.end === undefined; turn++) {
      for (const action of host.last.actions) if (action.type === "SignalEntity") this.apply(action.entityId, action.operation, action.input);
      this.#logReleases(host.last.actions);
      const answers = this.answers(host);
      if (answers.length === 0) return;
      host.turn(answers);
    }
    for (const action of host.last.actions) if (action.type === "SignalEntity") this.apply(action.entityId, action.operation, action.input);
    this.#logReleases(host.last.actions);
  }

  /** The answers to every open call and lock request. */
  answers(host: TestHost): Arrival[] {
    const arrivals: Arrival[] = [];
    for (const action of host.open.values()) {
      if (action.type === "LockEntities") {
        this.log.push(`lock ${action.entityIds.join(",")}`);
        arrivals.push(host.lockGranted(action.id));
      } else if (action.type === "CallEntity") {
        const outcome = this.apply(action.entityId, action.operation, action.input);
        arrivals.push("failure" in outcome ? host.entityFailed(action.id, outcome.failure) : host.entityResult(action.id, outcome.result));
      }
    }
    return arrivals;
  }

  /** Runs one operation on an entity's state. */
  apply(entityId: string, operation: string, input: unknown): { result: unknown } | { failure: FailureDetails } {
    this.log.push(`${entityId} ${operation}${input === undefined ? "" : ` ${JSON.stringify(input)}`}`);
    const type = this.types[entityId.slice(0, entityId.indexOf("/"))];
    const run = type?.operations[operation];
    if (type === undefined || run === undefined) return { failure: { errorType: "unknown_operation", message: `no operation "${operation}" on ${entityId}` } };
    try {
      const [state, result] = run(this.states.has(entityId) ? this.states.get(entityId) : type.initial(), input);
      this.states.set(entityId, state);
      return { result };
    } catch (error) {
      return { failure: { errorType: "operation_failed", message: (error as Error).message } };
    }
  }

  #logReleases(actions: readonly OrchestratorAction[]): void {
    for (const action of actions) if (action.type === "ReleaseLocks") this.log.push(`release ${action.entityIds.join(",")}`);
  }
}
