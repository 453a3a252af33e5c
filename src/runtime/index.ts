export {
  defineEntity,
  isEntityDefinition,
  type EntityContext,
  type EntityDefinition,
  type EntityOperation,
  type OperationsEntityDefinition,
  type DispatchEntityDefinition,
} from "./define-entity.js";
export { EntityRuntime, type EntityRuntimeOptions } from "./entity-runtime.js";
export { EntityRegistry } from "./entity-registry.js";
export type { EntityChange, OperationKind, OperationRequest, Outcome, ReplyTarget } from "./operation-request.js";
export { cloneJson, jsonEqual } from "./json-value.js";
