/**
 * The orchestration scenarios' app: everything the demo app defines (entities, `HelloSequence`,
 * `FanOutFanIn`, …) plus `HelloSequence5`, a five-activity chain that exists only for the bench.
 * The server entry loads it when a scenario names it (`Scenario.app`).
 */
import { defineOrchestration } from "../../../src/orchestration/index.js";
import { SayHello } from "../../../src/demo/orchestrations/hello-sequence.js";
import { HELLO_SEQUENCE5_CITIES } from "./expected-outputs.js";

export * from "../../../src/demo/app.js";

/** Function chaining with five activities (the demo's `HelloSequence` has three). */
export const HelloSequence5 = defineOrchestration("HelloSequence5", function* (ctx) {
  const out: string[] = [];
  for (const city of HELLO_SEQUENCE5_CITIES) out.push(yield* ctx.call(SayHello, city));
  return out;
});
