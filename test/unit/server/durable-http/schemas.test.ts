import { describe, expect, it } from "vitest";
import type { InstanceStatus } from "../../../../src/orchestration/index.js";
import { statusBody, statusResponse } from "../../../../src/server/durable-http/instance-status.js";
import { BooleanParam, DateTimeParam, OrchestrationStatus, RuntimeStatusListParam, SecondsParam, TopParam } from "../../../../src/server/durable-http/schemas.js";

const running: InstanceStatus = { name: "Hello", instanceId: "i1", runtimeStatus: "Running", input: undefined, output: undefined, customStatus: undefined, createdTime: "2026-12-01T00:00:00.000Z", lastUpdatedTime: "2026-12-01T00:00:01.000Z" };

describe("the HTTP API's schemas", () => {
  it("read parameters as Durable Functions does", () => {
    expect(BooleanParam.parse("TRUE")).toBe(true);
    expect(BooleanParam.parse("false")).toBe(false);
    expect(BooleanParam.safeParse("1").success).toBe(false);
    expect(RuntimeStatusListParam.parse("running, Completed,canceled")).toEqual(["Running", "Completed"]);
    expect(RuntimeStatusListParam.safeParse("Running,Sleeping").success).toBe(false);
    expect(DateTimeParam.parse("2026-12-01T00:00:00Z")).toBe(Date.UTC(2026, 11, 1));
    expect(DateTimeParam.safeParse("soon").success).toBe(false);
    expect(SecondsParam.parse("2.5")).toBe(2.5);
    expect(SecondsParam.safeParse("0").success).toBe(false);
    expect(SecondsParam.safeParse("7200").success).toBe(false);
    expect(TopParam.parse("1000")).toBe(1000);
    expect(TopParam.safeParse("1001").success).toBe(false);
  });

  it("shape statuses with every key present, and answer Durable Functions' status codes", () => {
    const body = statusBody(running, { showInput: true });
    expect(body).toEqual({ name: "Hello", instanceId: "i1", runtimeStatus: "Running", input: null, customStatus: null, output: null, createdTime: running.createdTime, lastUpdatedTime: running.lastUpdatedTime });
    expect(OrchestrationStatus.parse(body)).toEqual(body);
    expect(OrchestrationStatus.safeParse({ ...body, output: undefined }).success).toBe(false);
    const failed: InstanceStatus = { ...running, runtimeStatus: "Failed", failureDetails: { errorType: "Error", message: "boom" } };
    expect(statusBody(failed, { showInput: false })).toMatchObject({ output: "boom", failureDetails: { errorType: "Error", message: "boom" } });
    const where = { location: "http://h/x", internalServerErrorOnFailure: false };
    expect(statusResponse(running, { showInput: true }, where)).toMatchObject({ status: 202, headers: { location: "http://h/x", "retry-after": "5" } });
    expect(statusResponse({ ...running, runtimeStatus: "Suspended" }, { showInput: true }, where).status).toBe(202);
    expect(statusResponse({ ...running, runtimeStatus: "Completed" }, { showInput: true }, where).status).toBe(200);
    expect(statusResponse({ ...running, runtimeStatus: "Terminated" }, { showInput: true }, where).status).toBe(200);
    expect(statusResponse(failed, { showInput: true }, where).status).toBe(200);
    expect(statusResponse(failed, { showInput: true }, { ...where, internalServerErrorOnFailure: true }).status).toBe(500);
  });
});
