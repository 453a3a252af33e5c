import type { FailureDetails, InstanceStatus } from "../../clients/index.js";
import { describeError, formatTime, h, parseJsonInput, replace, type Child } from "./dom.js";
import { badge } from "./instances-view.js";
import { jsonTree } from "./json-tree.js";
import { timelineChart } from "./timeline-chart.js";
import { instanceHash, type DashboardContext, type View } from "./view.js";

/** While an instance runs, its running bars grow this often. */
const TICK_MS = 1000;

/**
 * One instance: live status (a watch), its input, output, custom status and failure, its history as a
 * timeline (read again after every change), and the actions: raise an event, terminate, suspend,
 * resume, purge.
 */
export function instanceView(context: DashboardContext, instanceId: string): View {
  const { client } = context;
  const summary = h("div", { class: "summary" }, h("span", { class: "meta" }, "loading…"));
  const timeline = h("div", null);
  const outcome = h("div", { class: "outcome", "data-testid": "action-outcome" });
  let disposed = false;
  let history: Parameters<typeof timelineChart>[0] = [];
  let running = false;
  let reading = 0;

  const drawTimeline = () => replace(timeline, timelineChart(history, Date.now()));
  const readHistory = () => {
    const read = ++reading;
    client.history(instanceId).then(
      (events) => {
        if (disposed || read !== reading) return;
        history = events;
        drawTimeline();
      },
      (error: unknown) => !disposed && read === reading && replace(timeline, h("p", { class: "error" }, describeError(error))),
    );
  };
  const watch = client.watch(instanceId, (status) => {
    if (disposed) return;
    running = status !== null && (status.runtimeStatus === "Running" || status.runtimeStatus === "Pending");
    if (status === null) {
      replace(summary, h("p", { class: "meta", "data-testid": "no-instance" }, "no such instance (never started, or purged)"));
      replace(timeline);
      return;
    }
    replace(summary, describeStatus(status));
    readHistory();
  });
  watch.ready.catch((error: unknown) => replace(summary, h("p", { class: "error" }, describeError(error))));
  const ticker = setInterval(() => running && drawTimeline(), TICK_MS);

  const act = (what: string, action: () => Promise<unknown>) => {
    replace(outcome, h("span", { class: "meta" }, `${what}…`));
    action().then(
      (result) => !disposed && replace(outcome, h("span", { class: "ok" }, `${what}: done${what === "purge" ? ` (${(result as { instancesDeleted: number }).instancesDeleted} deleted)` : ""}`)),
      (error: unknown) => !disposed && replace(outcome, h("span", { class: "error" }, describeError(error))),
    );
  };
  const eventName = h("input", { placeholder: "event name", "aria-label": "event name", "data-testid": "event-name" });
  const eventData = h("input", { placeholder: "JSON data (empty for none)", "aria-label": "event data", "data-testid": "event-data" });
  const reason = h("input", { placeholder: "reason (optional)", "aria-label": "reason" });
  const withReason = () => (reason.value === "" ? undefined : reason.value);
  const actions = h(
    "div",
    { class: "actions" },
    h(
      "form",
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          const data = parseJsonInput(eventData.value);
          if (!data.ok) return replace(outcome, h("span", { class: "error" }, data.message));
          if (eventName.value === "") return replace(outcome, h("span", { class: "error" }, "name the event"));
          act("raise", () => client.raiseEvent(instanceId, eventName.value, data.value));
        },
      },
      eventName,
      eventData,
      h("button", { type: "submit", "data-testid": "raise" }, "raise event"),
    ),
    h(
      "div",
      null,
      reason,
      h("button", { type: "button", "data-testid": "terminate", onclick: () => act("terminate", () => client.terminate(instanceId, withReason())) }, "terminate"),
      h("button", { type: "button", "data-testid": "suspend", onclick: () => act("suspend", () => client.suspend(instanceId, withReason())) }, "suspend"),
      h("button", { type: "button", "data-testid": "resume", onclick: () => act("resume", () => client.resume(instanceId, withReason())) }, "resume"),
      h("button", { type: "button", class: "danger", "data-testid": "purge", onclick: () => act("purge", () => client.purge(instanceId)) }, "purge"),
    ),
    outcome,
  );

  const element = h(
    "div",
    { class: "instance" },
    h("p", { class: "crumbs" }, h("a", { href: "#/instances" }, "Orchestrations"), " / "),
    h("h2", { "data-testid": "instance-id" }, h("a", { href: instanceHash(instanceId) }, instanceId)),
    summary,
    h("h3", null, "Timeline"),
    timeline,
    h("h3", null, "Actions"),
    actions,
  );
  return {
    element,
    dispose: () => {
      disposed = true;
      clearInterval(ticker);
      void watch.close();
    },
  };
}

function describeStatus(status: InstanceStatus): HTMLElement {
  const field = (label: string, value: Child) => [h("dt", null, label), h("dd", null, value)];
  const json = (value: unknown) => (value === null || value === undefined ? h("span", { class: "meta" }, "null") : jsonTree(value, undefined, new Set()));
  return h(
    "dl",
    { "data-testid": "instance-status" },
    ...field("orchestration", status.name),
    ...field("status", badge(status.runtimeStatus)),
    ...field("created", formatTime(status.createdTime)),
    ...field("last updated", formatTime(status.lastUpdatedTime)),
    ...(status.parentInstanceId ? field("parent", h("a", { href: instanceHash(status.parentInstanceId) }, status.parentInstanceId)) : []),
    ...field("input", json(status.input)),
    ...field("output", json(status.output)),
    ...field("custom status", json(status.customStatus)),
    ...(status.failureDetails ? field("failure", failure(status.failureDetails)) : []),
  );
}

/** A failure and the failures it wraps, outermost first. */
function failure(details: FailureDetails): HTMLElement {
  const items: HTMLElement[] = [];
  for (let at: FailureDetails | undefined = details; at !== undefined; at = at.inner) {
    items.push(h("li", null, h("strong", null, at.errorType), at.taskName ? ` (${at.taskName})` : "", `: ${at.message}`, at.details === undefined ? null : jsonTree(at.details, undefined, new Set())));
  }
  return h("ul", { class: "failure", "data-testid": "failure" }, ...items);
}
