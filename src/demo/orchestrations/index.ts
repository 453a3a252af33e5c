/** The demo app's orchestrations and activities: every pattern of the seeds. */
export * from "./hello-sequence.js";
export * from "./place-order.js";
export * from "./fan-out-fan-in.js";
export * from "./monitor.js";
export * from "./approval-workflow.js";
export * from "./counter-actor.js";
export * from "./retry-demo.js";
export * from "./transfer.js";
