import { ErrorCode } from "../../../protocol/index.js";
import type { HistoryEvent, InstanceStatus, OrchestrationHost } from "../../orchestration/index.js";
import type { TaskHub } from "../task-hub.js";
import type { HttpResponse } from "../transport.js";
import { askInstance, resultOf } from "./asking.js";
import { historyRows } from "./history-rows.js";
import { HttpProblem, jsonResponse } from "./problems.js";
import type { OrchestrationStatus } from "./schemas.js";

/** The orchestration host of a hub; 404 when its app defines no orchestrations. */
export function orchestrationHost(hub: TaskHub): OrchestrationHost {
  const host = hub.orchestrationHost;
  if (host === undefined) throw new HttpProblem(404, ErrorCode.unknown_orchestration, "this server's app defines no orchestrations");
  return host;
}

export function notFound(instanceId: string): HttpProblem {
  return new HttpProblem(404, ErrorCode.not_found, `no orchestration instance ${JSON.stringify(instanceId.slice(0, 256))}`);
}

/** What `GET /instances/{id}` shows. */
export interface StatusView {
  readonly showInput: boolean;
  readonly history?: { readonly events: readonly HistoryEvent[]; readonly showOutput: boolean };
}

/** The status body Durable Functions' clients read: every key present (null when empty); a failed instance's output is its error's message. */
export function statusBody(status: InstanceStatus, view: StatusView): OrchestrationStatus {
  const failed = status.runtimeStatus === "Failed" && status.failureDetails !== undefined;
  return {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: view.showInput ? (status.input ?? null) : null,
    customStatus: status.customStatus ?? null,
    output: failed && (status.output ?? null) === null ? status.failureDetails!.message : (status.output ?? null),
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
    ...(status.failureDetails ? { failureDetails: status.failureDetails } : {}),
    ...(view.history ? { historyEvents: historyRows(view.history.events, view.history.showOutput) } : {}),
  };
}

/** Durable Functions' status codes: 202 while it runs (with `Location` and `Retry-After: 5`), 200 once it finished, 500 for Failed when asked. */
export function statusResponse(status: InstanceStatus, view: StatusView, options: { location: string; internalServerErrorOnFailure: boolean }): HttpResponse {
  const body = statusBody(status, view);
  switch (status.runtimeStatus) {
    case "Pending":
    case "Running":
    case "Suspended":
      return jsonResponse(202, body, { location: options.location, "retry-after": "5" });
    case "Failed":
      return jsonResponse(options.internalServerErrorOnFailure ? 500 : 200, body);
    default:
      return jsonResponse(200, body);
  }
}

/** Most history pages one status request reads (1,000 events each: an execution's history is bounded by the host's guard rail). */
const MAX_HISTORY_PAGES = 1_000;

/**
 * An instance's status, read in order with its turns (what is committed), and with `history` its
 * whole current execution's history, a page at a time. Undefined when there is no such instance.
 */
export async function readInstance(host: OrchestrationHost, instanceId: string, history: boolean): Promise<{ status: InstanceStatus; events?: HistoryEvent[] } | undefined> {
  type Page = InstanceStatus & { history?: HistoryEvent[]; historyNext?: number };
  const first = resultOf(await askInstance(host, { kind: "read", instanceId, history })) as Page | null;
  if (first === null) return undefined;
  const { history: page, historyNext, ...status } = first;
  if (!history) return { status };
  const events = [...(page ?? [])];
  let next = historyNext;
  for (let pages = 1; next !== undefined && pages < MAX_HISTORY_PAGES; pages++) {
    const more = resultOf(await askInstance(host, { kind: "read", instanceId, history: true, historyFrom: next })) as Page | null;
    if (more === null) break; // purged meanwhile
    events.push(...(more.history ?? []));
    next = more.historyNext;
  }
  return { status, events };
}
