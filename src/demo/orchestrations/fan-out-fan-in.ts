import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

/** The work list: 1..n. */
export const F1 = defineActivity("F1", (n: number) => Array.from({ length: n }, (_, i) => i + 1));
/** One item's work: its square. */
export const F2 = defineActivity("F2", (x: number) => x * x);
/** Receives the aggregate (here it only acknowledges it). */
export const F3 = defineActivity("F3", (sum: number) => sum);

/** Fan-out/fan-in: F2 over every item of F1's list in parallel, the sum to F3; the output is the sum of squares. */
export const FanOutFanIn = defineOrchestration("FanOutFanIn", function* (ctx, n: number) {
  const work = yield* ctx.call(F1, n);
  const squares = yield* ctx.Task.all(work.map((x) => ctx.call(F2, x)));
  const sum = squares.reduce((total, square) => total + square, 0);
  yield* ctx.call(F3, sum);
  return sum;
});
