import type { Msg } from "nats";

/**
 * Anything that arrives on a hub's NATS subjects is input: any client of the NATS servers can publish
 * there. These read a message's JSON and check its shape; a message that is not what it should be
 * is dropped (undefined), never thrown on: a throw in a NATS subscription's callback ends the
 * connection's reader (nats.js does not catch it), cutting the node off from its logs.
 */
const decoder = new TextDecoder();

/** The message's JSON value, undefined when it is not JSON. */
export function jsonOf(message: Pick<Msg, "data">): unknown {
  try {
    return JSON.parse(decoder.decode(message.data));
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

export function isRecordArray(value: unknown): value is Array<Record<string, unknown>> {
  return Array.isArray(value) && value.every(isRecord);
}

/** A subscription callback that never throws into nats.js: what it throws is handed to `onError`. */
export function guarded<A extends unknown[]>(callback: (...args: A) => void, onError: (error: unknown) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      callback(...args);
    } catch (error) {
      onError(error);
    }
  };
}
