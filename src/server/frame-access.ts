import type { ClientFrame } from "../../protocol/index.js";
import type { AccessTarget, Action } from "../security/index.js";

/** One check a frame must pass: an action on a target. */
export interface FrameAccess {
  readonly action: Action;
  readonly target: AccessTarget;
  /** What a refusal calls the target when its description would tell more than the client sent (an instance's orchestration name). */
  readonly about?: string;
}

/**
 * The checks of a request on a connection (none for hello). Requests about an instance are checked
 * against the instance's orchestration name (`instanceName` reads it; an unknown instance is checked as
 * "any orchestration", so only a grant on `*` learns that it does not exist); a refusal names the
 * instance, never its orchestration, so that it tells neither. A start under the id of an existing
 * instance of another orchestration replaces that instance: it is also checked as a start of that one.
 */
export function frameAccess(frame: ClientFrame, instanceName: (instanceId: string) => string | undefined): FrameAccess[] {
  const entity = (id: string): AccessTarget => ({ kind: "entity", id });
  const instance = (action: Action, instanceId: string): FrameAccess[] => [{ action, target: { kind: "orchestration", name: instanceName(instanceId) ?? "*" }, about: `instance ${instanceId}` }];
  switch (frame.type) {
    case "hello":
      return [];
    case "signal":
    case "call":
      return [{ action: frame.type, target: entity(frame.entity) }];
    case "get":
      return [{ action: "read", target: entity(frame.entity) }];
    case "subscribe":
    case "unsubscribe":
      return [{ action: "subscribe", target: entity(frame.entity) }];
    case "deleteEntity":
      return [{ action: "signal", target: entity(frame.entity) }];
    case "listEntities":
      return [{ action: "read", target: { kind: "entities", type: frame.entityType, ...(frame.prefix === undefined ? {} : { prefix: frame.prefix }) } }];
    case "failures":
      return [{ action: "read", target: frame.entityType === undefined ? { kind: "all-entities" } : { kind: "entities", type: frame.entityType } }];
    case "cleanEntities":
      return [{ action: "signal", target: frame.entityType === undefined ? { kind: "all-entities" } : { kind: "entities", type: frame.entityType } }];
    case "start": {
      const start: FrameAccess = { action: "start", target: { kind: "orchestration", name: frame.name } };
      const replaced = frame.instanceId === undefined ? undefined : instanceName(frame.instanceId);
      return replaced === undefined || replaced === frame.name ? [start] : [start, { action: "start", target: { kind: "orchestration", name: replaced }, about: `instance ${frame.instanceId}` }];
    }
    case "list":
      return [{ action: "status", target: { kind: "orchestration", name: frame.name ?? "*" } }];
    case "status":
    case "watch":
    case "unwatch":
      return instance("status", frame.instanceId);
    case "raise":
      return instance("raise", frame.instanceId);
    default:
      // terminate, suspend, resume, purge, rewind: managing an instance.
      return instance("manage", (frame as { instanceId: string }).instanceId);
  }
}
