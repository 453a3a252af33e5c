import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  defineOrchestration,
  type EntityIdOf,
  type LockHandle,
  type LockState,
  type OrchestrationEntityProxy,
  type SignalEntityOptions,
  type Task,
} from "../../../src/orchestration/index.js";
import { defineEntity } from "../../../src/runtime/index.js";

const Account = defineEntity("Account", {
  initialState: () => 0,
  operations: {
    deposit: (ctx, amount: number) => (ctx.state += amount),
    withdraw: (ctx, amount: number) => {
      if (amount > ctx.state) throw new Error("insufficient funds");
      return (ctx.state -= amount);
    },
    get: (ctx) => ctx.state,
    note: (ctx, text?: string) => {
      void text;
    },
    rename: { input: z.object({ name: z.string(), force: z.boolean().default(false) }), run: (ctx, input) => input.name.length },
  },
});

const CounterFn = defineEntity<"CounterFn", number>("CounterFn", (ctx) => ctx.state);

describe("typed entity access from orchestrations", () => {
  it("ctx.entity<typeof Account>(id) checks the id's prefix, like the client's proxy", () => {
    expectTypeOf<EntityIdOf<typeof Account>>().toEqualTypeOf<`Account/${string}`>();
    expectTypeOf<EntityIdOf<unknown>>().toEqualTypeOf<string>();
    defineOrchestration("Ids", function* (ctx, key: string) {
      expectTypeOf(ctx.entity<typeof Account>(`Account/${key}`)).toEqualTypeOf<OrchestrationEntityProxy<typeof Account>>();
      // @ts-expect-error another entity type's id
      ctx.entity<typeof Account>("Counter/alice");
      // @ts-expect-error no key
      ctx.entity<typeof Account>("Account");
    });
  });

  it("call.<op>(input) returns a Task of the operation's result; the input is typed (a schema's input type too)", () => {
    defineOrchestration("Calls", function* (ctx) {
      const account = ctx.entity<typeof Account>("Account/alice");
      expectTypeOf(account.call.withdraw(5)).toEqualTypeOf<Task<number>>();
      const balance = yield* account.call.get();
      expectTypeOf(balance).toEqualTypeOf<number>();
      expectTypeOf(account.call.note).toEqualTypeOf<(text?: string) => Task<void>>();
      expectTypeOf(account.call.rename).parameter(0).toEqualTypeOf<{ name: string; force?: boolean | undefined }>();
      yield account.call.rename({ name: "a" });
      // @ts-expect-error withdraw takes a number
      account.call.withdraw("5");
      // @ts-expect-error withdraw needs its input
      account.call.withdraw();
      // @ts-expect-error get takes none
      account.call.get(1);
      // @ts-expect-error no such operation
      account.call.close();
      // @ts-expect-error the schema wants a name
      account.call.rename({ force: true });
    });
  });

  it("signal.<op>(input, { at }?) is one-way (void); an operation without input takes undefined before the options", () => {
    defineOrchestration("Signals", function* (ctx) {
      const account = ctx.entity<typeof Account>("Account/alice");
      expectTypeOf(account.signal.deposit(5)).toEqualTypeOf<void>();
      account.signal.deposit(5, { at: new Date() });
      account.signal.get(undefined, { at: 0 });
      account.signal.note();
      // @ts-expect-error deposit takes a number
      account.signal.deposit("5");
      // @ts-expect-error at is a Date or epoch ms
      account.signal.deposit(5, { at: "tomorrow" });
      yield ctx.createTimer(0);
    });
  });

  it("untyped forms: callEntity<T> gives Task<T> (any by default), signalEntity is void, an untyped or dispatch entity takes any operation", () => {
    defineOrchestration("Untyped", function* (ctx) {
      expectTypeOf(ctx.callEntity<number>("Account/a", "get")).toEqualTypeOf<Task<number>>();
      expectTypeOf(ctx.callEntity("Account/a", "get")).toEqualTypeOf<Task<any>>();
      expectTypeOf(ctx.signalEntity("Account/a", "deposit", 1, { at: Date.now() })).toEqualTypeOf<void>();
      // (an index signature: with noUncheckedIndexedAccess, a method may be undefined)
      expectTypeOf(ctx.entity("Anything/x").call.whatever).toEqualTypeOf<((input?: unknown) => Task<any>) | undefined>();
      expectTypeOf(ctx.entity<typeof CounterFn>("CounterFn/x").call.add).toEqualTypeOf<((input?: unknown) => Task<any>) | undefined>();
      expectTypeOf(ctx.entity("Anything/x").signal.whatever).toEqualTypeOf<((input?: unknown, options?: SignalEntityOptions) => void) | undefined>();
      // @ts-expect-error the typed form still checks the id of a dispatch entity
      ctx.entity<typeof CounterFn>("Counter/x");
      yield ctx.createTimer(0);
    });
  });

  it("lock gives a LockHandle; isLocked a LockState", () => {
    defineOrchestration("Locks", function* (ctx) {
      expectTypeOf(ctx.lock(["Account/a", "Account/b"])).toEqualTypeOf<Task<LockHandle>>();
      const lock = yield* ctx.lock(["Account/a"]);
      expectTypeOf(lock.entities).toEqualTypeOf<readonly string[]>();
      expectTypeOf(lock.release).toEqualTypeOf<() => void>();
      expectTypeOf(ctx.isLocked()).toEqualTypeOf<LockState>();
      expectTypeOf(ctx.isLocked().entities).toEqualTypeOf<string[]>();
      // @ts-expect-error a list of ids, not one
      ctx.lock("Account/a");
    });
  });
});
