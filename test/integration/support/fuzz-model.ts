import fc from "fast-check";
import { ClientFrame, MAX_FRAMES_PER_MESSAGE, type ErrorCode } from "../../../protocol/index.js";

/**
 * The fuzz test's model of WebSocket messages: each message with what the server must answer. A message is a
 * template: every request id in it is an ID_MARK, replaced when it is sent by the connection's next id
 * (so ids are unique and increase, as signal ids must), and a near-limit message is padded at its
 * PAD_MARK to an exact size. JSON.stringify never leaves a raw control character in its output, so
 * neither mark can be mistaken for generated content.
 *
 * Whether a generated frame is valid is the protocol's own zod schema's call (the contract); what a
 * valid frame must be answered with is this file's model of the fuzz app (test/fixtures/fuzz-app.ts).
 */
export const ID_MARK = "\u0001";
export const PAD_MARK = "\u0002";
/** A request id to be assigned at send time, in a frame object (becomes an ID_MARK in its JSON). */
export const SLOT = "@@request-id@@";

export type Principal = "admin" | "app";

/**
 * What one request must be answered with, exactly once: `ok` a non-error answer, `error` an error of
 * any code, an error code that error, `any` one answer of any kind; `none` no answer at all (the
 * message carrying it was refused whole).
 */
export type Expect = "ok" | "error" | "any" | "none" | ErrorCode;

export interface FuzzMessage {
  readonly label: string;
  /** The template (ID_MARKs, at most one PAD_MARK), or the bytes of a binary or invalid-UTF-8 message. */
  readonly text?: string;
  readonly bytes?: Uint8Array;
  /** Send `bytes` as a text frame (they are not UTF-8). */
  readonly bytesAsText?: boolean;
  /** Pad the text at its PAD_MARK with "x" to this many UTF-8 bytes. */
  readonly padTo?: number;
  /** One per ID_MARK, in order. */
  readonly expects: readonly Expect[];
  /** For messages of several frames: the frame of each ID_MARK, in order (to say which one went wrong). */
  readonly requests?: readonly string[];
  /** Errors that answer no request (no `id`, no `ids`) this message must get, by code. */
  readonly idless: readonly ErrorCode[];
  /** The connection must close after this message, with one of these codes. */
  readonly closes?: { readonly ws: readonly number[]; readonly uws: readonly number[] };
}

/** A generated session on one connection: who it is, what it sends before and after hello, and maybe a last message that ends it. */
export interface FuzzSession {
  readonly principal: Principal;
  readonly beforeHello: readonly FuzzMessage[];
  readonly messages: readonly FuzzMessage[];
  readonly terminal: FuzzMessage | undefined;
}

/** The entity types the fuzz app hosts, and their operations. */
export const OPERATIONS: Record<string, readonly string[]> = {
  Counter: ["add", "reset", "get", "delete"],
  CounterFn: ["add", "reset", "get", "delete"],
  Stats: ["record", "reset", "get"],
  ShoppingCart: ["addItem", "removeItem", "clear", "get"],
  Echo: ["set", "get"],
  Account: ["deposit", "withdraw", "get"],
};
const ORCHESTRATIONS = ["ApprovalWorkflow", "CounterActor", "FanOutFanIn", "HelloSequence", "Monitor", "OrderSaga", "PlaceOrder", "RetryDemo", "Transfer"];
/** A running instance (started by the test) that fuzzed suspends, resumes and events reach; nothing may end it. */
export const WAITING_INSTANCE = "fuzz-wait";

// ---------------------------------------------------------------------------------------------------
// The model: what a valid frame is answered with.

function entityType(id: string): string {
  return id.slice(0, id.indexOf("/"));
}

export function isRequestId(value: unknown): boolean {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isFiniteNumber(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value);
}

/** The answer a valid request frame gets from the fuzz app, for a greeted connection of `principal`. */
export function expectFor(frame: Exclude<ClientFrame, { type: "hello" }>, principal: Principal): Expect {
  switch (frame.type) {
    case "signal":
    case "call": {
      const type = entityType(frame.entity);
      if (principal === "app" && type !== "Counter") return "forbidden";
      const operations = OPERATIONS[type];
      if (!operations) return "unknown_entity";
      if (type !== "CounterFn" && !operations.includes(frame.op)) return "unknown_operation";
      if (frame.type === "signal" && frame.at !== undefined) return "any"; // scheduled: acknowledged, run later
      if (type === "CounterFn" && !operations.includes(frame.op)) return "operation_failed"; // one dispatch function: it throws for an operation it lacks
      if ((type === "Counter" || type === "CounterFn") && frame.op === "add") return isFiniteNumber(frame.input) ? "ok" : "operation_failed";
      if (type === "Stats" && frame.op === "record") return isFiniteNumber(frame.input) ? "ok" : "bad_request";
      if (frame.op === "get" || frame.op === "reset" || frame.op === "delete" || frame.op === "clear") return "ok";
      return "any"; // Echo.set (an input it cannot hold is refused), the cart's schema-checked operations
    }
    case "get": {
      const type = entityType(frame.entity);
      if (principal === "app" && type !== "Counter") return "forbidden";
      return OPERATIONS[type] ? "ok" : "unknown_entity";
    }
    case "subscribe": {
      if (principal === "app") return "forbidden";
      return OPERATIONS[entityType(frame.entity)] ? "ok" : "unknown_entity";
    }
    case "unsubscribe":
      return principal === "app" ? "forbidden" : "any";
    case "failures":
    case "cleanEntities":
      // The app's token covers the whole Counter type (reading, and cleaning, which is signalling); nothing else, nor every type.
      return principal === "app" && frame.entityType !== "Counter" ? "forbidden" : "any";
    case "listEntities":
      // `ignoreCase` may make "counter" the Counter type.
      return principal === "app" && frame.entityType.toLowerCase() !== "counter" ? "forbidden" : "any";
    case "deleteEntity":
      return principal === "app" && entityType(frame.entity) !== "Counter" ? "forbidden" : "any";
    case "start":
      if (principal === "app") return "forbidden";
      return ORCHESTRATIONS.includes(frame.name) ? "any" : "unknown_orchestration";
    case "status":
      return principal === "app" ? "forbidden" : "ok";
    default:
      return principal === "app" ? "forbidden" : "any";
  }
}

// ---------------------------------------------------------------------------------------------------
// Items: one frame of a message, classified; messages made of them.

export interface Item {
  readonly json: string;
  readonly expects: readonly Expect[];
  /** The schema refuses it. */
  readonly invalid: boolean;
  /** It is invalid and has an id the server can read (so the error answers that id). */
  readonly readableId: boolean;
  /** A valid hello: on a greeted connection, answered by an error without id. */
  readonly hello: boolean;
  /** A valid hello with a version the server does not speak: closes the connection (terminal only). */
  readonly badVersion: boolean;
}

function toJson(value: unknown): string {
  return JSON.stringify(value).split(JSON.stringify(SLOT)).join(ID_MARK);
}

export function classify(value: unknown, principal: Principal, greeted: boolean): Item {
  const json = toJson(value);
  const hasSlot = typeof value === "object" && value !== null && !Array.isArray(value) && (value as { id?: unknown }).id === SLOT;
  const probe = hasSlot ? { ...(value as object), id: 1 } : value;
  const parsed = ClientFrame.safeParse(probe);
  if (parsed.success) {
    const frame = parsed.data;
    if (frame.type === "hello") return { json, expects: [], invalid: false, readableId: false, hello: true, badVersion: frame.version !== 1 };
    return { json, expects: [greeted ? expectFor(frame, principal) : "handshake_required"], invalid: false, readableId: false, hello: false, badVersion: false };
  }
  return { json, expects: hasSlot ? ["bad_request"] : [], invalid: true, readableId: hasSlot, hello: false, badVersion: false };
}

/** An object with an own property for each entry (so that "__proto__" is a key, not the prototype). */
export function objectOf(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}


export function withToString(message: FuzzMessage): FuzzMessage {
  const shown = message.text ?? `<${message.bytes?.length ?? 0} bytes>`;
  return Object.assign(message, { [fc.toStringMethod]: () => `${message.label}: ${JSON.stringify(shown.length > 160 ? `${shown.slice(0, 160)}…(${shown.length})` : shown)}` });
}

export function fromItems(label: string, parts: readonly Item[], batch: boolean): FuzzMessage {
  const invalid = parts.filter((item) => item.invalid);
  const idless: ErrorCode[] = invalid.length > 0 && !invalid.some((item) => item.readableId) ? ["bad_request"] : [];
  for (const item of parts) if (item.hello) idless.push("bad_request"); // hello was already received
  const text = batch ? `[${parts.map((item) => item.json).join(",")}]` : parts[0]!.json;
  const requests = parts.flatMap((item) => item.expects.map(() => item.json));
  return withToString({ label, text, expects: parts.flatMap((item) => item.expects), idless, ...(batch ? { requests } : {}) });
}

// ---------------------------------------------------------------------------------------------------
// Garbage: text that carries no request the server could answer by id.

/** What a message that carries no readable request id must get, or undefined when it carries one (such garbage is not generated). */
export function garbageAnswer(text: string): readonly ErrorCode[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return ["bad_request"];
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length === 0) return []; // an empty batch asks nothing
  if (list.length > MAX_FRAMES_PER_MESSAGE) return ["bad_request"];
  const answersById = list.some((item) => {
    if (typeof item !== "object" || item === null) return false;
    const id = (item as { id?: unknown }).id;
    return isRequestId(id) || ClientFrame.safeParse(item).success;
  });
  return answersById ? undefined : ["bad_request"];
}
