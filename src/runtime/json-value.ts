import { MAX_VALUE_DEPTH } from "../../protocol/json-depth.js";

/**
 * Entity states, inputs and results are JSON. These helpers copy and compare JSON values fast and
 * reject what JSON cannot carry, so a state that would not survive a round trip fails its operation
 * instead of being stored wrong.
 */

/** How deeply entity states, inputs and results may nest (deeper ones would overflow the stack when stored): as deep as a frame's values. */
export const MAX_JSON_DEPTH = MAX_VALUE_DEPTH;

/** Characters the value being copied by `cloneJsonWithin` may still take as JSON (Infinity otherwise). */
let remaining = Infinity;

/** A value's JSON passed the size it was allowed. */
export class JsonTooLarge extends Error {
  constructor(readonly maxChars: number) {
    super(`is more than ${maxChars} characters of JSON`);
  }
}

/**
 * `cloneJson` for a value whose JSON may be at most `maxChars` characters (entity states): counted on
 * the way, so a state too large is refused without encoding it; throws {@link JsonTooLarge}.
 */
export function cloneJsonWithin<T>(value: T, maxChars: number): T {
  remaining = maxChars;
  try {
    return cloneJson(value);
  } catch (error) {
    if (error instanceof JsonTooLarge) throw new JsonTooLarge(maxChars);
    throw error;
  } finally {
    remaining = Infinity;
  }
}

/** Counts `chars` against the value being copied within a size. */
function spend(chars: number): void {
  remaining -= chars;
  if (remaining < 0) throw new JsonTooLarge(0);
}

/** A deep copy of a JSON value. Throws a TypeError naming the path of the first non-JSON value. */
export function cloneJson<T>(value: T): T {
  try {
    return cloneAt(value, 0) as T;
  } catch (error) {
    if (error instanceof NotJson) throw new TypeError(`$${error.path.reverse().join("")} ${error.problem}`);
    throw error;
  }
}

/** Thrown inside the copy; the path is collected on the way out, so a successful copy builds no strings. */
class NotJson extends Error {
  readonly path: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

function cloneAt(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      if (remaining !== Infinity) spend(value.length + 2);
      return value;
    case "boolean":
      if (remaining !== Infinity) spend(5);
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new NotJson(`is ${value}, which JSON cannot carry`);
      if (remaining !== Infinity) spend(String(value).length);
      return value;
    case "undefined":
      return undefined;
    case "object": {
      if (remaining !== Infinity) spend(4); // null, or the brackets and a comma
      if (value === null) return null;
      if (depth >= MAX_JSON_DEPTH) throw new NotJson(`nests deeper than ${MAX_JSON_DEPTH} levels`);
      if (Array.isArray(value)) {
        const copy = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          let item: unknown;
          try {
            item = cloneAt(value[i], depth + 1);
          } catch (error) {
            throw addSegment(error, `[${i}]`);
          }
          copy[i] = item === undefined ? null : item;
        }
        return copy;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        if (value instanceof Date) return value.toISOString();
        throw new NotJson(`is a ${proto?.constructor?.name ?? "non-plain object"}, which JSON cannot carry`);
      }
      const copy: Record<string, unknown> = {};
      for (const key in value) {
        if (key === "__proto__") throw new NotJson(`has a "__proto__" key, which entity state may not hold`);
        if (remaining !== Infinity) spend(key.length + 4);
        let item: unknown;
        try {
          item = cloneAt((value as Record<string, unknown>)[key], depth + 1);
        } catch (error) {
          throw addSegment(error, `.${key}`);
        }
        if (item !== undefined) copy[key] = item;
      }
      return copy;
    }
    default:
      throw new NotJson(`is a ${typeof value}, which JSON cannot carry`);
  }
}

function addSegment(error: unknown, segment: string): unknown {
  if (error instanceof NotJson) error.path.push(segment);
  return error;
}

/** Deep equality of two JSON values (as produced by cloneJson). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
