import { ErrorCode } from "./error-codes.js";

const BRAND = Symbol.for("durable-entities.error");

/** The one error type of this project: a stable code, a message a person can act on, optional details. */
export class EntityError extends Error {
  readonly [BRAND] = true;
  override readonly name = "EntityError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** True for any EntityError, even one made by another copy of this package (no `instanceof`). */
export function isEntityError(error: unknown): error is EntityError {
  return typeof error === "object" && error !== null && (error as { [BRAND]?: unknown })[BRAND] === true;
}

export { ErrorCode };
