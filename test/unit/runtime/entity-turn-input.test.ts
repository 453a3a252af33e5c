import { afterEach, describe, expect, it } from "vitest";
import { decodeClientMessage } from "../../../protocol/index.js";
import { defineEntity } from "../../../src/runtime/index.js";
import { RuntimeHarness, call, readState } from "../support/runtime-harness.js";

const Doc = defineEntity("Doc", {
  initialState: (): { data: unknown; n: number } => ({ data: null, n: 0 }),
  operations: {
    set: (ctx, data: unknown) => {
      ctx.state.data = data;
    },
    bump: (ctx) => ++ctx.state.n,
    echo: (_ctx, input: unknown) => input,
  },
});

/** The input of a `call` frame, decoded as the server decodes it. */
function wireInput(json: string): unknown {
  const { frames, errors } = decodeClientMessage(`{"type":"call","id":1,"entity":"Doc/x","op":"set","input":${json}}`);
  expect(errors).toEqual([]);
  const frame = frames[0];
  if (frame?.type !== "call") throw new Error("expected a call frame");
  return frame.input;
}

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("operation inputs and results", () => {
  it("stores a copy of the input and answers a copy of the result", async () => {
    harness = await RuntimeHarness.open([Doc]);
    const { runtime } = harness;
    const input = { list: [1, { a: "b" }], u: undefined };
    expect(await call(runtime, "Doc/c", "set", input)).toEqual({ kind: "result", value: undefined });
    input.list.push(2);
    expect(await readState(runtime, "Doc/c")).toEqual({ state: { data: { list: [1, { a: "b" }] }, n: 0 }, version: 1 });
    const echoed = await call(runtime, "Doc/c", "echo", input);
    expect(echoed).toEqual({ kind: "result", value: { list: [1, { a: "b" }, 2] } });
    expect(echoed.kind === "result" && echoed.value).not.toBe(input);
  });

  it("stores inputs decoded from the wire", async () => {
    harness = await RuntimeHarness.open([Doc]);
    const { runtime } = harness;
    await call(runtime, "Doc/w", "set", wireInput('{"constructor": {"a": 1}, "toString": "x", "": [null]}'));
    expect(await call(runtime, "Doc/w", "bump")).toEqual({ kind: "result", value: 1 });
    expect((await readState(runtime, "Doc/w")).state).toEqual({ data: { constructor: { a: 1 }, toString: "x", "": [null] }, n: 1 });
  });

  // An input with an own "__proto__" key, which any client can send, cannot be stored: the operation
  // fails with a message naming the key, its changes roll back, and the entity keeps working.
  it("refuses to store an input with a __proto__ key and keeps working", async () => {
    harness = await RuntimeHarness.open([Doc]);
    const { runtime } = harness;
    expect(await call(runtime, "Doc/p", "set", wireInput('{"__proto__": {"x": 1}}'))).toMatchObject({ kind: "error", code: "operation_failed", message: expect.stringContaining('"__proto__"') });
    expect(await call(runtime, "Doc/p", "bump")).toEqual({ kind: "result", value: 1 });
  });
});
