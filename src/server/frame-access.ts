import type { ClientFrame } from "../../protocol/index.js";
import type { AccessTarget, Action } from "../security/index.js";

/** What a frame asks to do, for authorization; undefined for frames that need no permission (hello). */
export interface FrameAccess {
  readonly action: Action;
  readonly target: AccessTarget;
}

/**
 * The action and target of a request on a connection. Requests about an instance are checked against the
 * instance's orchestration name (`instanceName` reads it; an unknown instance is checked as "any
 * orchestration", so only a grant on `*` learns that it does not exist).
 */
export function frameAccess(frame: ClientFrame, instanceName: (instanceId: string) => string | undefined): FrameAccess | undefined {
  const entity = (id: string): AccessTarget => ({ kind: "entity", id });
  const instance = (instanceId: string): AccessTarget => ({ kind: "orchestration", name: instanceName(instanceId) ?? "*" });
  switch (frame.type) {
    case "hello":
      return undefined;
    case "signal":
    case "call":
      return { action: frame.type, target: entity(frame.entity) };
    case "get":
      return { action: "read", target: entity(frame.entity) };
    case "subscribe":
    case "unsubscribe":
      return { action: "subscribe", target: entity(frame.entity) };
    case "deleteEntity":
      return { action: "signal", target: entity(frame.entity) };
    case "listEntities":
      return { action: "read", target: { kind: "entities", type: frame.entityType, ...(frame.prefix === undefined ? {} : { prefix: frame.prefix }) } };
    case "failures":
      return { action: "read", target: frame.entityType === undefined ? { kind: "all-entities" } : { kind: "entities", type: frame.entityType } };
    case "cleanEntities":
      return { action: "signal", target: frame.entityType === undefined ? { kind: "all-entities" } : { kind: "entities", type: frame.entityType } };
    case "start":
      return { action: "start", target: { kind: "orchestration", name: frame.name } };
    case "list":
      return { action: "status", target: { kind: "orchestration", name: frame.name ?? "*" } };
    case "status":
    case "watch":
    case "unwatch":
      return { action: "status", target: instance(frame.instanceId) };
    case "raise":
      return { action: "raise", target: instance(frame.instanceId) };
    default:
      // terminate, suspend, resume, purge, rewind: managing an instance.
      return { action: "manage", target: instance((frame as { instanceId: string }).instanceId) };
  }
}
