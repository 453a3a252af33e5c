import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/** How deeply an input may nest (the server refuses deeper states and inputs too). */
const MAX_DEPTH = 256;

/**
 * A request's JSON value as it is now: a request is encoded later (and again when resent), so an
 * object the caller changes after the call must not change what is sent. Primitives need no copy.
 * Returns an EntityError `bad_request` for a value JSON cannot carry, naming where it is
 * (`the input cannot be encoded as JSON: input.items[1].price is a function`), instead of letting
 * `JSON.stringify` drop it (a function, or a Map that would become `{}`) or change it (NaN to null).
 * Properties that are `undefined` are left out, as JSON.stringify does; `toJSON` (Date) is honoured.
 */
export function copyInput(input: unknown, what = "input"): unknown {
  if (input === undefined || input === null || typeof input === "string" || typeof input === "boolean") return input;
  try {
    return copyValue(input, []);
  } catch (error) {
    if (error instanceof NotJson) {
      return new EntityError(ErrorCode.bad_request, `the ${what} cannot be encoded as JSON: ${what}${error.path.reverse().join("")} ${error.problem}`);
    }
    return new EntityError(ErrorCode.bad_request, `the ${what} cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Thrown where the walk meets a value JSON cannot carry; the path is collected on the way out, so a good input builds no strings. */
class NotJson extends Error {
  readonly path: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** Adds a path segment to a NotJson passing through. */
function at(error: unknown, segment: string): unknown {
  if (error instanceof NotJson) error.path.push(segment);
  return error;
}

/** Instances that JSON.stringify turns into `{}`. */
const LOSSY = [Map, Set, WeakMap, WeakSet, RegExp, Error] as const;

/** A copy of `value`; `ancestors` are the objects that contain it (for cycles). */
function copyValue(value: unknown, ancestors: object[]): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new NotJson(`is ${value}, which JSON cannot carry`);
      return value;
    case "undefined":
      return undefined;
    case "object":
      return value === null ? null : copyObject(value, ancestors);
    default:
      // function, symbol, bigint
      throw new NotJson(`is a ${typeof value}, which JSON cannot carry`);
  }
}

function copyObject(value: object, ancestors: object[]): unknown {
  if (ancestors.includes(value)) throw new NotJson("refers back to an object that contains it (a cycle)");
  if (ancestors.length >= MAX_DEPTH) throw new NotJson(`nests deeper than ${MAX_DEPTH} levels`);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return copyValue(toJSON.call(value), ancestors); // a Date becomes its ISO string
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) {
    if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
    if (typeof (value as { then?: unknown }).then === "function") throw new NotJson("is a promise; await it before sending its value");
    for (const type of LOSSY) {
      if (value instanceof type) throw new NotJson(`is ${/^[AEIOU]/.test(type.name) ? "an" : "a"} ${type.name}, which JSON cannot carry`);
    }
  }
  ancestors.push(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      let item: unknown;
      try {
        item = copyValue(value[i], ancestors);
      } catch (error) {
        throw at(error, `[${i}]`);
      }
      items[i] = item === undefined ? null : item; // as JSON.stringify does
    }
    copy = items;
  } else {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      let item: unknown;
      try {
        item = copyValue((value as Record<string, unknown>)[key], ancestors);
      } catch (error) {
        throw at(error, /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
      }
      if (item === undefined) continue; // left out, as JSON.stringify does
      if (key === "__proto__") Object.defineProperty(fields, key, { value: item, enumerable: true, writable: true, configurable: true });
      else fields[key] = item;
    }
    copy = fields;
  }
  ancestors.pop();
  return copy;
}
