import type { ClientRequest } from "../protocol/client-frames.js";
import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/**
 * Requests in flight when a connection drops that are not sent again: they change something and the
 * server does not recognise a resend of them, so a resend could run them twice. They fail with
 * `disconnected` (they may or may not have happened). Signals are resent (the server de-duplicates
 * them by client id and number), and so are starts (de-duplicated the same way, on a fixed instance
 * id) and reads (`get`, `status`, `list`, `listEntities`). `deleteEntity` and `cleanEntities` are not:
 * a resent delete could delete what was written since.
 */
const NOT_RESENT: ReadonlySet<ClientRequest["type"]> = new Set(["call", "raise", "terminate", "suspend", "resume", "rewind", "purge", "deleteEntity", "cleanEntities"]);

/** True when `frame` is sent again after a reconnect if it was not answered. */
export function isResentAfterReconnect(frame: ClientRequest): boolean {
  return !NOT_RESENT.has(frame.type);
}

/** The error for a request that was in flight when the connection dropped and is not resent. */
export function lostInFlight(frame: ClientRequest): EntityError {
  const outcome = frame.type === "call" ? "run" : "happened";
  return new EntityError(ErrorCode.disconnected, `the connection closed while ${describe(frame)} was in flight; it may or may not have ${outcome}`);
}

function describe(frame: ClientRequest): string {
  switch (frame.type) {
    case "call":
      return `the call to ${frame.op} on ${frame.entity}`;
    case "raise":
      return `the event ${frame.event} for instance ${frame.instanceId}`;
    case "terminate":
    case "suspend":
    case "resume":
    case "rewind":
    case "purge":
      return `the ${frame.type} of instance ${frame.instanceId}`;
    case "deleteEntity":
      return `the delete of ${frame.entity}`;
    case "cleanEntities":
      return "the clean of entity storage";
    default:
      return `a ${frame.type} request`;
  }
}
