import { randomUUID } from "node:crypto";
import { ErrorCode } from "../../../protocol/index.js";
import type { OrchestrationHost } from "../../orchestration/index.js";
import type { HttpResponse } from "../transport.js";
import { askInstance, resultOf } from "./asking.js";
import { orchestrationHost, statusResponse } from "./instance-status.js";
import { checkStatusResponse, managementPayload } from "./links.js";
import { HttpProblem, jsonResponse } from "./problems.js";
import { jsonBody } from "./request-body.js";
import { defineRoute, type RouteContext, type RouteSpec } from "./route-spec.js";
import { BooleanParam, InstanceIdParam, JsonValue, OrchestratorNameParam, SecondsParam } from "./schemas.js";

/** How a start waits (`?timeout=S`): pushed the instance's finish by its commit, never polled. */
export interface StartWait {
  readonly timeoutSeconds?: number;
  readonly internalServerErrorOnFailure: boolean;
}

export const WAIT_QUERY = {
  timeout: SecondsParam.optional().meta({ description: "Wait up to this many seconds for the instance to finish; answer 200 with its output when it completes in time." }),
  pollingInterval: SecondsParam.optional().meta({ description: "Accepted for Durable Functions' clients (at most the timeout); the server does not poll: the finish is pushed by its commit." }),
  returnInternalServerErrorOnFailure: BooleanParam.optional().meta({ description: "With timeout: answer 500 rather than 200 when the instance fails in time." }),
};

/** The waiting options of a start's query (400 when the polling interval exceeds the timeout, as in Durable Functions). */
export function startWait(query: { timeout?: number | undefined; pollingInterval?: number | undefined; returnInternalServerErrorOnFailure?: boolean | undefined }): StartWait {
  if (query.pollingInterval !== undefined && query.timeout !== undefined && query.pollingInterval > query.timeout) {
    throw new HttpProblem(400, ErrorCode.bad_request, `query parameter pollingInterval: ${query.pollingInterval} s is longer than the timeout of ${query.timeout} s`);
  }
  return { ...(query.timeout === undefined ? {} : { timeoutSeconds: query.timeout }), internalServerErrorOnFailure: query.returnInternalServerErrorOnFailure === true };
}

/** The name the app defines for `requested`: exact, else the one name that matches without regard to case (function names are case-insensitive in Azure Functions). */
export function orchestratorName(host: OrchestrationHost, requested: string): string {
  if (host.orchestrations.has(requested)) return requested;
  const lower = requested.toLowerCase();
  const matching = [...host.orchestrations.keys()].filter((name) => name.toLowerCase() === lower);
  if (matching.length === 1) return matching[0]!;
  const unknown = host.check(requested)!;
  throw new HttpProblem(404, unknown.code, unknown.message);
}

/**
 * Starts `name` as `instanceId` and answers as Durable Functions does: 202 with the management links
 * (`Location`, `Retry-After: 10`); or, waiting, 200 with the output when it completes in time (the
 * status, 200 or 500, when it fails or is terminated), else the 202.
 */
export async function startInstance(context: RouteContext, host: OrchestrationHost, name: string, instanceId: string, input: unknown, wait: StartWait): Promise<HttpResponse> {
  const bytes = JSON.stringify(input).length;
  if (bytes > host.limits.maxPayloadBytes) {
    throw new HttpProblem(413, ErrorCode.payload_too_large, `the input is ${bytes} bytes of JSON; the limit is ${host.limits.maxPayloadBytes}`);
  }
  const waiting = wait.timeoutSeconds === undefined ? undefined : context.services.completionWaits(host).wait(instanceId);
  const started = await askInstance(host, { kind: "start", instanceId, name, input, depth: 0 });
  if (started.kind === "error") waiting?.cancel();
  resultOf(started);
  const links = () => checkStatusResponse(managementPayload(context.links.base, context.links.suffix, instanceId));
  if (waiting === undefined) return links();
  const finished = await waiting.until(wait.timeoutSeconds! * 1000);
  if (finished === undefined || finished === null) return links();
  if (finished.runtimeStatus === "Completed") return jsonResponse(200, finished.output ?? null);
  return statusResponse(finished, { showInput: true }, { location: context.links.self, internalServerErrorOnFailure: wait.internalServerErrorOnFailure });
}

/** The orchestrator a start names, checked: 404 for none of that name, 403 when the request may not start it. */
function startedName(context: RouteContext): string {
  const name = orchestratorName(orchestrationHost(context.hub), (context.params as { functionName: string }).functionName);
  context.services.authorize(context.principal, "start", { kind: "orchestration", name });
  return name;
}

function startRoute(withInstanceId: boolean): RouteSpec {
  return defineRoute({
    method: "POST",
    path: withInstanceId ? "/orchestrators/{functionName}/{instanceId}" : "/orchestrators/{functionName}",
    operationId: withInstanceId ? "startOrchestrationWithId" : "startOrchestration",
    tag: "orchestrators",
    summary: withInstanceId ? "Start an orchestration with the instance id given" : "Start an orchestration (a new random instance id)",
    description:
      "The body is the input (JSON; empty is null). Answered once the start is durable. An instance id whose instance still runs is refused with 409; a finished one's id starts it anew.",
    params: withInstanceId ? { functionName: OrchestratorNameParam, instanceId: InstanceIdParam } : { functionName: OrchestratorNameParam },
    query: WAIT_QUERY,
    body: { description: "The orchestration's input.", schema: JsonValue },
    responses: {
      200: { description: "With timeout: the instance completed in time; the body is its output (or its status, when it failed or was terminated).", body: { schema: JsonValue } },
      202: { description: "Started: the links that manage the instance.", body: { component: "CheckStatusPayload" }, headers: { Location: "The status link.", "Retry-After": "10 (seconds)." } },
      400: { description: "A bad parameter, or a body that is not JSON.", body: { component: "ErrorBody" } },
      404: { description: "The app defines no orchestrator of that name.", body: { component: "ErrorBody" } },
      409: { description: "An instance with that id is running.", body: { component: "ErrorBody" } },
      413: { description: "The input is too large.", body: { component: "ErrorBody" } },
      415: { description: "The body is not JSON (Content-Type).", body: { component: "ErrorBody" } },
      500: { description: "With timeout and returnInternalServerErrorOnFailure=true: the instance failed in time (its status).", body: { component: "OrchestrationStatus" } },
    },
    createsHub: true,
    checkBeforeCreating(context) {
      startedName(context);
    },
    async handle(context) {
      const host = orchestrationHost(context.hub);
      const name = startedName(context);
      const params = context.params as { functionName: string; instanceId?: string };
      if (params.instanceId !== undefined && context.services.authorizing) {
        // A finished instance's id starts it anew, replacing it: an instance of another orchestration needs that one's start grant too (as over the WebSocket).
        const existing = context.hub.instanceName(params.instanceId);
        if (existing !== undefined && existing !== name) context.services.authorize(context.principal, "start", { kind: "orchestration", name: existing }, `instance ${params.instanceId}`);
      }
      const input = jsonBody(context.request, "input");
      const instanceId = params.instanceId ?? randomUUID().replaceAll("-", "");
      return startInstance(context, host, name, instanceId, input, startWait(context.query));
    },
  });
}

export const orchestratorRoutes: RouteSpec[] = [startRoute(false), startRoute(true)];
