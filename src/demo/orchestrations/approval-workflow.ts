import { defineActivity, defineOrchestration } from "../../orchestration/index.js";

export const RequestApproval = defineActivity("RequestApproval", (instanceId: string) => `approval requested for ${instanceId}`);
export const ProcessApproval = defineActivity("ProcessApproval", (approval: unknown) => ({ processed: approval }));
export const Escalate = defineActivity("Escalate", (instanceId: string) => `escalated ${instanceId}`);

const HOURS_72 = 72 * 60 * 60;

/** Human interaction: ask for approval, then race the ApprovalEvent against a durable timer. */
export const ApprovalWorkflow = defineOrchestration("ApprovalWorkflow", function* (ctx, input: { timeoutSeconds?: number } | null) {
  yield* ctx.call(RequestApproval, ctx.instanceId);
  const deadline = ctx.currentUtcDateTime.getTime() + (input?.timeoutSeconds ?? HOURS_72) * 1000;
  const timeout = ctx.createTimer(deadline);
  const approval = ctx.waitForExternalEvent("ApprovalEvent");
  const winner = yield ctx.Task.any([approval, timeout]);
  if (winner === approval) {
    timeout.cancel();
    yield* ctx.call(ProcessApproval, approval.result);
    return { approved: approval.result };
  }
  yield* ctx.call(Escalate, ctx.instanceId);
  return { escalated: true };
});
