/** durable-entities: define entities, and host them. The client is `durable-entities/client`. */
export { defineEntity, isEntityDefinition, type EntityContext, type EntityDefinition } from "./runtime/index.js";
export { startServer, type RunningServer, type ServerOptions } from "./server/index.js";
export { EntityError, isEntityError, ErrorCode } from "../protocol/index.js";
