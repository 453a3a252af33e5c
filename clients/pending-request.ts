import type { EntityError } from "../protocol/entity-error.js";

// One shared executor instead of a closure per request: the hot path allocates only the promise.
let capturedResolve: (value: unknown) => void = () => {};
let capturedReject: (error: EntityError) => void = () => {};
function captureResolvers(resolve: (value: never) => void, reject: (error: EntityError) => void): void {
  capturedResolve = resolve as (value: unknown) => void;
  capturedReject = reject;
}

/** A request waiting for its answer: the frame (sent again after a reconnect) and its promise. */
export class PendingRequest<F> {
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: EntityError) => void;

  constructor(readonly frame: F) {
    this.promise = new Promise(captureResolvers);
    this.resolve = capturedResolve;
    this.reject = capturedReject;
  }
}
