/**
 * Entity states, inputs and results are JSON. These helpers copy and compare JSON values fast and
 * reject what JSON cannot carry, so a state that would not survive a round trip fails its operation
 * instead of being stored wrong.
 */

/** A deep copy of a JSON value. Throws a TypeError naming the path of the first non-JSON value. */
export function cloneJson<T>(value: T): T {
  return cloneAt(value, "$") as T;
}

function cloneAt(value: unknown, path: string): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, which JSON cannot carry`);
      return value;
    case "undefined":
      return undefined;
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const copy = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = cloneAt(value[i], `${path}[${i}]`);
          copy[i] = item === undefined ? null : item;
        }
        return copy;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        if (value instanceof Date) return value.toISOString();
        throw new TypeError(`${path} is a ${proto?.constructor?.name ?? "non-plain object"}, which JSON cannot carry`);
      }
      const copy: Record<string, unknown> = {};
      for (const key in value) {
        if (key === "__proto__") throw new TypeError(`${path} has a "__proto__" key, which entity state may not hold`);
        const item = cloneAt((value as Record<string, unknown>)[key], `${path}.${key}`);
        if (item !== undefined) copy[key] = item;
      }
      return copy;
    }
    default:
      throw new TypeError(`${path} is a ${typeof value}, which JSON cannot carry`);
  }
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
