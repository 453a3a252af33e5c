export * from "./version.js";
export * from "./error-codes.js";
export * from "./entity-id.js";
export * from "./limits.js";
export * from "./client-frames.js";
export * from "./server-frames.js";
export * from "./codec.js";
export * from "./entity-error.js";
