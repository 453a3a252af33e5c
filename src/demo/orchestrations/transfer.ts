import { defineEntity } from "../../runtime/index.js";
import { defineOrchestration } from "../../orchestration/index.js";

function checkAmount(amount: number): void {
  if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) throw new TypeError(`the amount must be a number of at least 0; got ${String(amount)}`);
}

/** A bank account: its balance, a number. `withdraw` throws when the funds are short (nothing is taken then). */
export const Account = defineEntity("Account", {
  initialState: () => 0,
  operations: {
    deposit: (ctx, amount: number) => {
      checkAmount(amount);
      ctx.state += amount;
      return ctx.state;
    },
    withdraw: (ctx, amount: number) => {
      checkAmount(amount);
      if (ctx.state < amount) throw new Error(`insufficient funds: ${ctx.entityId} holds ${ctx.state}, ${amount} asked`);
      ctx.state -= amount;
      return ctx.state;
    },
    get: (ctx) => ctx.state,
  },
});

export interface TransferRequest {
  /** Account keys: the entities are `Account/<from>` and `Account/<to>`. */
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

/**
 * Moves money between two accounts in a critical section: both are locked (in one global order, so
 * transfers never deadlock), the balance is checked, and the money moves, or nothing does.
 */
export const Transfer = defineOrchestration("Transfer", function* (ctx, request: TransferRequest) {
  const from = ctx.entity<typeof Account>(`Account/${request.from}`);
  const to = ctx.entity<typeof Account>(`Account/${request.to}`);
  const lock = yield* ctx.lock([`Account/${request.from}`, `Account/${request.to}`]);
  try {
    const balance = yield* from.call.get();
    if (balance < request.amount) return { ok: false, fromBalance: balance, toBalance: yield* to.call.get() };
    const fromBalance = yield* from.call.withdraw(request.amount);
    const toBalance = yield* to.call.deposit(request.amount);
    return { ok: true, fromBalance, toBalance };
  } finally {
    lock.release();
  }
});
