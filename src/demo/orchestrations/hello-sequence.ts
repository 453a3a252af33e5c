import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

export const SayHello = defineActivity("SayHello", async (city: string) => `Hello ${city}!`);

/** Function chaining: three activities, one after the other. */
export const HelloSequence = defineOrchestration("HelloSequence", function* (ctx) {
  const out: string[] = [];
  out.push(yield ctx.callActivity("SayHello", "Tokyo")); // Durable Functions style, by name
  out.push(yield* ctx.call(SayHello, "Seattle")); // typed: the result is a string
  out.push(yield ctx.callActivity("SayHello", "London"));
  return out;
});
