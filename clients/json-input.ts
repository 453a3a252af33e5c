import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/**
 * A request's JSON value as it is now: a request is encoded later (and again when resent), so an
 * object the caller changes after the call must not change what is sent. Primitives need no copy.
 * Returns an EntityError `bad_request` for a value JSON cannot encode.
 */
export function copyInput(input: unknown, what = "input"): unknown {
  if (typeof input !== "object" || input === null) return input;
  try {
    const text = JSON.stringify(input);
    return text === undefined ? undefined : JSON.parse(text);
  } catch (error) {
    return new EntityError(ErrorCode.bad_request, `the ${what} cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
