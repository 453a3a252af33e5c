import { ErrorCode, type ListFrame } from "../../../protocol/index.js";
import type { RuntimeStatus } from "../../orchestration/index.js";
import { listInstances } from "../instance-listing.js";
import { askInstance, resultOf } from "./asking.js";
import { asProblem } from "./entity-routes.js";
import { orchestrationHost } from "./instance-status.js";
import { authorizeInstance, noInstance } from "./instance-routes.js";
import { HttpProblem, jsonResponse } from "./problems.js";
import { defineRoute, type RouteSpec } from "./route-spec.js";
import { DateTimeParam, InstanceIdParam, RuntimeStatusListParam } from "./schemas.js";

/** Statuses a purge may delete: only finished instances (a running one must be terminated first). */
const FINISHED: readonly RuntimeStatus[] = ["Completed", "Failed", "Terminated"];
/** Instances listed (and then purged together) per step of a bulk purge. */
const PURGE_PAGE = 1_000;

function nothingPurged(): HttpProblem {
  return new HttpProblem(404, ErrorCode.not_found, "no finished instance matched: nothing was deleted");
}

const purgeOne = defineRoute({
  method: "DELETE",
  path: "/instances/{instanceId}",
  operationId: "purgeInstance",
  tag: "instances",
  summary: "Delete a finished instance and its history",
  params: { instanceId: InstanceIdParam },
  query: {},
  responses: {
    200: { description: "Deleted.", body: { component: "PurgeResult" } },
    400: { description: "A bad parameter.", body: { component: "ErrorBody" } },
    404: { description: "No such instance.", body: { component: "ErrorBody" } },
    409: { description: "The instance still runs (terminate it first).", body: { component: "ErrorBody" } },
  },
  whenHubMissing: noInstance("manage"),
  async handle(context) {
    const { instanceId } = context.params;
    const host = orchestrationHost(context.hub);
    authorizeInstance(context, "manage", instanceId);
    const result = resultOf(await askInstance(host, { kind: "purge", instanceId }));
    return jsonResponse(200, result);
  },
});

const purgeMany = defineRoute({
  method: "DELETE",
  path: "/instances",
  operationId: "purgeInstances",
  tag: "instances",
  summary: "Delete the finished instances created in a time window",
  description: "Only Completed, Failed and Terminated instances are deleted; a runtimeStatus filter narrows that further.",
  params: {},
  query: {
    createdTimeFrom: DateTimeParam.meta({ description: "Required: instances created at or after this time." }),
    createdTimeTo: DateTimeParam.optional().meta({ description: "Instances created at or before this time (default: now)." }),
    runtimeStatus: RuntimeStatusListParam.optional().meta({ description: "Only these statuses, separated by commas." }),
  },
  responses: {
    200: { description: "How many were deleted.", body: { component: "PurgeResult" } },
    400: { description: "createdTimeFrom is missing, or a bad parameter.", body: { component: "ErrorBody" } },
    404: { description: "Nothing matched.", body: { component: "ErrorBody" } },
  },
  async whenHubMissing(context) {
    context.services.authorize(context.principal, "manage", { kind: "orchestration", name: "*" });
    throw nothingPurged();
  },
  async handle(context) {
    const host = orchestrationHost(context.hub);
    context.services.authorize(context.principal, "manage", { kind: "orchestration", name: "*" });
    const { createdTimeFrom, createdTimeTo, runtimeStatus } = context.query;
    const statuses = FINISHED.filter((status) => runtimeStatus === undefined || runtimeStatus.includes(status));
    let deleted = 0;
    const { listings } = context.hub;
    if (statuses.length > 0 && listings) {
      // Cluster mode: each partition's owner purges its own (a partition without an answer: 503).
      deleted = await listings.purge({ runtimeStatus: statuses as Array<"Completed" | "Failed" | "Terminated">, createdFrom: createdTimeFrom, createdTo: createdTimeTo ?? Date.now() }).catch(asProblem);
    } else if (statuses.length > 0) {
      const frame: ListFrame = { type: "list", id: 0, runtimeStatus: [...statuses], createdFrom: createdTimeFrom, createdTo: createdTimeTo ?? Date.now(), pageSize: PURGE_PAGE };
      let continuation: string | undefined;
      do {
        const page = listInstances(host, continuation === undefined ? frame : { ...frame, continuation });
        const outcomes = await Promise.all(page.instances.map((status) => askInstance(host, { kind: "purge", instanceId: status.instanceId })));
        for (const outcome of outcomes) if (outcome.kind === "result") deleted += (outcome.value as { instancesDeleted: number }).instancesDeleted;
        continuation = page.continuation;
      } while (continuation !== undefined);
    }
    if (deleted === 0) throw nothingPurged();
    return jsonResponse(200, { instancesDeleted: deleted });
  },
});

export const purgeRoutes: RouteSpec[] = [purgeOne, purgeMany];
