import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

export interface MonitorInput {
  readonly jobId: string;
  readonly pollSeconds: number;
  readonly expirySeconds: number;
  /** The simulated job completes at this poll. */
  readonly completeAfterPolls: number;
}

/** A simulated job: "Completed" from the `completeAfterPolls`-th poll on. */
export const GetJobStatus = defineActivity("GetJobStatus", (check: { jobId: string; poll: number; completeAfterPolls: number }) =>
  check.poll >= check.completeAfterPolls ? "Completed" : "Running",
);

export const SendAlert = defineActivity("SendAlert", (message: string) => `alert sent: ${message}`);

/** The monitor pattern: poll on a durable timer until the job completes or the monitor expires. */
export const Monitor = defineOrchestration("Monitor", function* (ctx, input: MonitorInput) {
  const expiry = ctx.currentUtcDateTime.getTime() + input.expirySeconds * 1000;
  let polls = 0;
  while (ctx.currentUtcDateTime.getTime() < expiry) {
    polls++;
    const status = yield* ctx.call(GetJobStatus, { jobId: input.jobId, poll: polls, completeAfterPolls: input.completeAfterPolls });
    ctx.setCustomStatus({ polls, status });
    if (status === "Completed") {
      yield* ctx.call(SendAlert, `job ${input.jobId} completed after ${polls} polls`);
      return { polls, status: "Completed" as const };
    }
    yield ctx.createTimer(ctx.currentUtcDateTime.getTime() + input.pollSeconds * 1000);
  }
  return { polls, status: "Expired" as const };
});
