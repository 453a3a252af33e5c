import { defineOrchestration } from "../../orchestration/index.js";

/** The eternal orchestration ("actor"): one operation per execution, then continue-as-new with the new value. */
export const CounterActor = defineOrchestration("CounterActor", function* (ctx, value: number) {
  ctx.setCustomStatus(value);
  const operation: unknown = yield ctx.waitForExternalEvent("operation");
  if (operation === "end") return value;
  const next = operation === "incr" ? value + 1 : operation === "decr" ? value - 1 : value;
  ctx.continueAsNew(next, { preserveUnprocessedEvents: true });
  return next;
});
