import fc from "fast-check";
import { MAX_FRAMES_PER_MESSAGE, type ErrorCode } from "../../../protocol/index.js";
import {
  classify,
  fromItems,
  garbageAnswer,
  ID_MARK,
  isRequestId,
  objectOf,
  OPERATIONS,
  PAD_MARK,
  SLOT,
  WAITING_INSTANCE,
  withToString,
  type Expect,
  type FuzzMessage,
  type FuzzSession,
  type Item,
  type Principal,
} from "./fuzz-model.js";

/**
 * Random WebSocket messages for the fuzz test (fast-check arbitraries), each with what the server must
 * answer (see fuzz-model.ts): frames of every type with plausible and wrong values, batches mixing good
 * and bad frames, garbage text, broken JSON, deep nesting, messages at the size limit, binary
 * messages, and messages that end a connection.
 */
// ---------------------------------------------------------------------------------------------------
// Field values: mostly plausible, sometimes wrong.

const WRONG_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, -0, 2 ** 53, 1e300, "", "x", "x".repeat(700), [], {}, [1], { a: 1 }, "Counter/x", "\u0000", "\ud800", "Nope"];
const wrongValue = fc.oneof(fc.constantFrom(...WRONG_VALUES), fc.jsonValue({ maxDepth: 2 }));

/** Keys: short ones shared by many frames (so operations meet each other), and random text (control characters and lone surrogates included). */
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("f0", "f1", "f2", "f3") },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 16 }).map((s) => `z${s}`) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 8 }).map((s) => `y${s}`) },
  { weight: 1, arbitrary: fc.constantFrom("bad\u0000key", "lone\ud800", "\u009f", "k".repeat(513), "a/b/c", " ", "%2F", "..", "🦄") },
);
const typeName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(OPERATIONS)) }, { weight: 1, arbitrary: fc.constantFrom("Nope", "counter", "_x", "9Bad", "") });
const entityId = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(typeName, key).map(([type, k]) => `${type}/${k}`) },
  { weight: 1, arbitrary: fc.constantFrom("no-slash", "Counter/", "/x", "Counter//", "") },
);
const operation = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("add", "get", "set", "reset", "delete", "record", "addItem", "removeItem", "clear") },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("x".repeat(129), "constructor", "__proto__", "toString", "hasOwnProperty")) },
);
const input = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>({ name: "tea", price: 3 }, { name: "", price: -1 }, "seven", null, [], objectOf([["__proto__", { polluted: true }]])) },
);
const instanceId = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("i0", "i1", WAITING_INSTANCE) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(257), "bad\u0000id", "\ud800") },
);
const requestId = fc.oneof(
  { weight: 12, arbitrary: fc.constant<unknown>(SLOT) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>("1", -1, 1.5, 2 ** 53, Number.MAX_VALUE, null, true, [], {}, "") },
);

/** Frames about entities (and their queries), with every field drawn from the pools above. */
const entityFrame = fc.oneof(
  fc.record(
    { type: fc.constantFrom("signal", "call"), id: requestId, entity: entityId, op: operation, input, at: fc.oneof(fc.integer({ min: -1e6, max: 2e12 }), wrongValue) },
    { requiredKeys: ["type", "id", "entity", "op"] },
  ),
  fc.record({ type: fc.constantFrom("get", "subscribe", "unsubscribe"), id: requestId, entity: entityId, fromVersion: fc.oneof(fc.nat(10), wrongValue) }, { requiredKeys: ["type", "id", "entity"] }),
  fc.record({ type: fc.constant("failures"), id: requestId, entityType: typeName, limit: fc.oneof(fc.integer({ min: 0, max: 1001 }), wrongValue), before: fc.nat(100) }, { requiredKeys: ["type", "id"] }),
  fc.record(
    {
      type: fc.constant("listEntities"),
      id: requestId,
      entityType: typeName,
      ignoreCase: fc.boolean(),
      prefix: fc.oneof(key, fc.constant("")),
      includeState: fc.boolean(),
      includeDeleted: fc.boolean(),
      modifiedFrom: fc.integer(),
      pageSize: fc.oneof(fc.integer({ min: 0, max: 1001 }), wrongValue),
      continuation: fc.oneof(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 40 })),
      count: fc.boolean(),
    },
    { requiredKeys: ["type", "id", "entityType"] },
  ),
  fc.record({ type: fc.constant("deleteEntity"), id: requestId, entity: entityId }),
  fc.record({ type: fc.constant("cleanEntities"), id: requestId, entityType: typeName, removeEmpty: fc.boolean(), releaseOrphanedLocks: fc.boolean() }, { requiredKeys: ["type", "id"] }),
);

const orchestrationName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("HelloSequence", "Nope", "helloSequence") },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("", "9x", "x".repeat(200))) },
);
/** A raise that cannot finish the waiting instance (it waits for "ApprovalEvent"). */
const eventName = fc.oneof(fc.constantFrom("Ping", "@lock", "", "x".repeat(129)), fc.string({ maxLength: 10 })).filter((name) => name !== "ApprovalEvent");

/** Orchestration frames. Nothing here may end WAITING_INSTANCE: terminate, rewind and purge go to other ids. */
const orchestrationFrame = fc.oneof(
  fc.record({ type: fc.constant("start"), id: requestId, name: orchestrationName, input, instanceId: fc.oneof(instanceId.filter((id) => id !== WAITING_INSTANCE), wrongValue) }, { requiredKeys: ["type", "id", "name"] }),
  fc.record({ type: fc.constant("raise"), id: requestId, instanceId, event: eventName, data: input }, { requiredKeys: ["type", "id", "instanceId", "event"] }),
  fc.record({ type: fc.constantFrom("suspend", "resume"), id: requestId, instanceId, reason: input }, { requiredKeys: ["type", "id", "instanceId"] }),
  fc.record({ type: fc.constantFrom("terminate", "rewind", "purge"), id: requestId, instanceId: instanceId.filter((id) => id !== WAITING_INSTANCE), reason: input }, { requiredKeys: ["type", "id", "instanceId"] }),
  fc.record({ type: fc.constantFrom("status", "watch", "unwatch"), id: requestId, instanceId, history: fc.oneof(fc.boolean(), wrongValue), historyFrom: fc.nat(5) }, { requiredKeys: ["type", "id", "instanceId"] }),
  fc.record(
    {
      type: fc.constant("list"),
      id: requestId,
      runtimeStatus: fc.oneof(fc.subarray(["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended"]), fc.constant(["Nope"]), wrongValue),
      name: orchestrationName,
      createdFrom: fc.integer(),
      instanceIdPrefix: fc.string({ maxLength: 5 }),
      pageSize: fc.oneof(fc.integer({ min: 0, max: 1001 }), wrongValue),
      continuation: fc.oneof(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 60 })),
    },
    { requiredKeys: ["type", "id"] },
  ),
);

/** A hello on a greeted connection: answered with an error; one with another version is terminal (see classify). */
const helloFrame = fc.record(
  { type: fc.constant("hello"), version: fc.oneof({ weight: 5, arbitrary: fc.constant<unknown>(1) }, { weight: 1, arbitrary: wrongValue }), clientId: fc.oneof(fc.string({ maxLength: 10 }), wrongValue), hub: fc.constantFrom("default", "Bad Hub!") },
  { requiredKeys: ["type", "version"] },
);

/** An unknown type, or none. */
const strangeFrame = fc.record({ type: fc.oneof(fc.string({ maxLength: 12 }), wrongValue), id: requestId, entity: entityId }, { requiredKeys: ["id"] });

const unknownFieldName = fc.oneof(fc.constantFrom("extra", "__proto__", "constructor", "prototype", "toJSON", "", "Type", "ID", "x-y"), fc.string({ maxLength: 8 }));

/** Damage to a frame: a field set to a wrong value, a field removed, unknown fields added, or nothing. */
function damaged(frame: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return frame.chain((base) => {
    const fields = Object.keys(base);
    return fc.oneof(
      { weight: 6, arbitrary: fc.constant(base) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom(...fields), wrongValue)
          .filter(([field, value]) => field !== "id" || !isRequestId(value)) // ids the server can read are all given out at send time
          .map(([field, value]) => objectOf([...Object.entries(base), [field, value]])),
      },
      { weight: 1, arbitrary: fc.constantFrom(...fields).map((field) => objectOf(Object.entries(base).filter(([name]) => name !== field))) },
      { weight: 2, arbitrary: fc.array(fc.tuple(unknownFieldName, fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 3 }).map((extra) => objectOf([...Object.entries(base), ...extra.filter(([name]) => !Object.hasOwn(base, name))])) },
    );
  });
}

const anyFrame = damaged(
  fc.oneof(
    { weight: 8, arbitrary: entityFrame as fc.Arbitrary<Record<string, unknown>> },
    { weight: 4, arbitrary: orchestrationFrame as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: helloFrame as fc.Arbitrary<Record<string, unknown>> },
    { weight: 1, arbitrary: strangeFrame as fc.Arbitrary<Record<string, unknown>> },
  ),
);

/** A JSON value that is not a frame (a batch item that is a number, a string, null, an array). */
const nonFrame = fc.oneof(fc.constantFrom<unknown>(null, 0, "x", [], [[]], true), fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== "object" || v === null || Array.isArray(v)));

/** Frames (and, in batches, values that are not frames: alone, an array would be read as a batch itself). */
function items(principal: Principal, greeted: boolean, inBatch: boolean): fc.Arbitrary<Item> {
  return fc
    .oneof({ weight: 9, arbitrary: anyFrame as fc.Arbitrary<unknown> }, { weight: inBatch ? 1 : 0, arbitrary: nonFrame })
    .map((value) => classify(value, principal, greeted))
    .filter((item) => !item.badVersion && (greeted || !item.hello));
}


function garbage(label: string, text: fc.Arbitrary<string>): fc.Arbitrary<FuzzMessage> {
  return text
    .filter((t) => !t.includes(ID_MARK) && !t.includes(PAD_MARK) && garbageAnswer(t) !== undefined)
    .map((t) => withToString({ label, text: t, expects: [], idless: garbageAnswer(t)! }));
}

/** A frame's JSON cut, with a character inserted, or with one removed: mostly no longer JSON (those that still are are dropped). */
const brokenJson = fc
  .tuple(anyFrame.map((frame) => JSON.stringify({ ...frame, id: "x" })), fc.nat(), fc.constantFrom("cut", "insert", "delete"), fc.constantFrom("{", "}", "[", '"', ",", ":", "\\", "\u0000", "é"))
  .map(([json, at, how, char]) => {
    const i = at % (json.length + 1);
    if (how === "cut") return json.slice(0, i);
    if (how === "insert") return json.slice(0, i) + char + json.slice(i);
    return json.slice(0, i) + json.slice(i + 1);
  })
  .filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });

/** Random bytes read as Latin-1: arbitrary code points below 256, sent as (valid) UTF-8 text. */
const randomBytesAsText = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1"));

function nested(depth: number, shape: NestShape): string {
  switch (shape) {
    case "array":
      return `${"[".repeat(depth)}${"]".repeat(depth)}`;
    case "object":
      return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    case "mixed":
      return `${'[{"a":'.repeat(depth)}0${"}]".repeat(depth)}`;
    case "unclosed":
      return "[".repeat(depth);
  }
}

type NestShape = "array" | "object" | "mixed" | "unclosed";
/** Bytes each level of nesting takes. */
const LEVEL_BYTES: Record<NestShape, number> = { array: 2, object: 6, mixed: 8, unclosed: 1 };

/** A shape and a depth past the 256 levels entities allow, from a little past it to as deep as fits in a message under `limit`. */
function deepShape(limit: number, shapes: readonly NestShape[]): fc.Arbitrary<[NestShape, number]> {
  return fc.constantFrom(...shapes).chain((shape) => {
    const most = Math.floor((limit - 256) / LEVEL_BYTES[shape]);
    return fc.tuple(fc.constant(shape), fc.oneof(fc.integer({ min: 257, max: 2_000 }), fc.integer({ min: 2_000, max: most })));
  });
}

/** Deeply nested JSON in the fields that carry JSON values (`input`, `data`, `reason`): refused at decoding with bad_request (deeper than 256 levels), never a crash. */
function deepPayload(principal: Principal, limit: number): fc.Arbitrary<FuzzMessage> {
  type Target = { readonly head: string; readonly expect: Expect };
  const targets: Target[] =
    principal === "app"
      ? [
          { head: `"type":"call","id":${ID_MARK},"entity":"Counter/deep","op":"add","input"`, expect: "bad_request" },
          { head: `"type":"start","id":${ID_MARK},"name":"HelloSequence","input"`, expect: "bad_request" },
        ]
      : [
          { head: `"type":"call","id":${ID_MARK},"entity":"Echo/deep","op":"set","input"`, expect: "bad_request" },
          { head: `"type":"signal","id":${ID_MARK},"entity":"Echo/deep","op":"set","input"`, expect: "bad_request" },
          { head: `"type":"signal","id":${ID_MARK},"entity":"Echo/deep","op":"set","at":${Date.now() + 3_600_000},"input"`, expect: "bad_request" },
          { head: `"type":"start","id":${ID_MARK},"name":"HelloSequence","input"`, expect: "bad_request" },
          { head: `"type":"raise","id":${ID_MARK},"instanceId":"${WAITING_INSTANCE}","event":"Deep","data"`, expect: "bad_request" },
          { head: `"type":"suspend","id":${ID_MARK},"instanceId":"${WAITING_INSTANCE}","reason"`, expect: "bad_request" },
          { head: `"type":"resume","id":${ID_MARK},"instanceId":"${WAITING_INSTANCE}","reason"`, expect: "bad_request" },
        ];
  return fc
    .tuple(fc.constantFrom(...targets), deepShape(limit, ["array", "object", "mixed"]))
    .map(([target, [shape, d]]) => withToString({ label: `deep payload (${shape}, depth ${d})`, text: `{${target.head}:${nested(d, shape)}}`, expects: [target.expect], idless: [] }));
}

/** Messages padded to within a few bytes of the size limit, or exactly to it: accepted and answered. */
function nearLimit(principal: Principal, limit: number): fc.Arbitrary<FuzzMessage> {
  const templates: Array<{ text: string; expects: Expect[]; idless: ErrorCode[] }> = [
    { text: `"${PAD_MARK}"`, expects: [], idless: ["bad_request"] },
    { text: `{"type":"get","id":${ID_MARK},"entity":"Counter/${PAD_MARK}"}`, expects: ["bad_request"], idless: [] }, // a key over 512 characters
    { text: `{"type":"signal","id":${ID_MARK},"entity":"Counter/big","op":"add","input":"${PAD_MARK}"}`, expects: ["operation_failed"], idless: [] },
    { text: `[{"type":"get","id":${ID_MARK},"entity":"Counter/f0"},{"type":"bogus","pad":"${PAD_MARK}"}]`, expects: ["ok"], idless: ["bad_request"] },
  ];
  if (principal === "admin") templates.push({ text: `{"type":"call","id":${ID_MARK},"entity":"Echo/big","op":"set","input":"${PAD_MARK}"}`, expects: ["ok"], idless: [] });
  return fc
    .tuple(fc.constantFrom(...templates), fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 })))
    .map(([template, under]) => withToString({ label: `near the size limit (${under} bytes under)`, ...template, padTo: limit - under }));
}

/** A batch with more frames than a message may carry: refused whole, none of its requests answered. */
const tooManyFrames = fc.constant(
  withToString({
    label: "too many frames",
    text: `[{"type":"get","id":${ID_MARK},"entity":"Counter/f0"}${",0".repeat(MAX_FRAMES_PER_MESSAGE)}]`,
    expects: ["none"],
    idless: ["bad_request"],
  }),
);

const binary = fc.uint8Array({ maxLength: 512 }).map((bytes) => withToString({ label: "binary", bytes, expects: [], idless: ["bad_request"] }));

/** One message on a greeted connection. */
export function fuzzMessage(principal: Principal, limit: number): fc.Arbitrary<FuzzMessage> {
  return fc.oneof(
    { weight: 30, arbitrary: items(principal, true, false).map((it) => fromItems("frame", [it], false)) },
    { weight: 14, arbitrary: fc.array(items(principal, true, true), { minLength: 2, maxLength: 25 }).map((parts) => fromItems(`batch of ${parts.length}`, parts, true)) },
    { weight: 8, arbitrary: garbage("random text", fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 100 }))) },
    { weight: 6, arbitrary: garbage("random bytes as text", randomBytesAsText) },
    { weight: 5, arbitrary: garbage("random JSON", fc.json({ maxDepth: 3 })) },
    { weight: 8, arbitrary: garbage("broken JSON", brokenJson) },
    { weight: 4, arbitrary: deepShape(limit, ["array", "object", "mixed", "unclosed"]).chain(([shape, d]) => garbage(`deep nesting (${shape}, depth ${d})`, fc.constant(nested(d, shape)))) },
    { weight: 5, arbitrary: deepPayload(principal, limit) },
    { weight: 3, arbitrary: nearLimit(principal, limit) },
    { weight: 6, arbitrary: binary },
    { weight: 1, arbitrary: tooManyFrames },
  );
}

/** A message sent before hello: requests are refused with handshake_required, garbage as ever. */
export function beforeHelloMessage(principal: Principal): fc.Arbitrary<FuzzMessage> {
  return fc.oneof(
    items(principal, false, false).map((it) => fromItems("before hello", [it], false)),
    garbage("garbage before hello", fc.string({ maxLength: 50 })),
  );
}

const INVALID_UTF8 = [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])];

/** A message that ends its connection with a documented close code. */
export function terminalMessage(limit: number): fc.Arbitrary<FuzzMessage> {
  const tooBig = { ws: [1009], uws: [1009] };
  return fc.oneof(
    fc.integer({ min: 1, max: 4096 }).map((over) => withToString({ label: `over the size limit by ${over}`, text: `"${PAD_MARK}"`, padTo: limit + over, expects: [], idless: [], closes: tooBig })),
    fc.integer({ min: 1, max: 64 }).map((over) =>
      withToString({ label: `a call over the size limit by ${over}`, text: `{"type":"call","id":${ID_MARK},"entity":"Echo/huge","op":"set","input":"${PAD_MARK}"}`, padTo: limit + over, expects: ["none"], idless: [], closes: tooBig }),
    ),
    fc.integer({ min: 1, max: 64 }).map((over) => withToString({ label: `binary over the size limit by ${over}`, bytes: new Uint8Array(limit + over), expects: [], idless: [], closes: tooBig })),
    fc.constantFrom(...INVALID_UTF8).map((bytes) => withToString({ label: "text that is not UTF-8", bytes, bytesAsText: true, expects: [], idless: [], closes: { ws: [1007], uws: [1006] } })),
    fc.oneof(fc.integer({ min: 2, max: 1000 }), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER)).map((version) =>
      withToString({ label: `hello version ${version}`, text: JSON.stringify({ type: "hello", version }), expects: [], idless: ["unsupported_version"], closes: { ws: [1002], uws: [1002] } }),
    ),
  );
}

/** A session: a principal, a few messages before hello, `count` messages after it, and one time in four a terminal message. */
export function fuzzSession(count: number, limit: number): fc.Arbitrary<FuzzSession> {
  return fc.constantFrom<Principal>("admin", "admin", "app").chain((principal) =>
    fc.record({
      principal: fc.constant(principal),
      beforeHello: fc.array(beforeHelloMessage(principal), { maxLength: 3 }),
      messages: fc.array(fuzzMessage(principal, limit), { minLength: count, maxLength: count }),
      terminal: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: terminalMessage(limit) }),
    }),
  );
}
