import type { InstanceQuery, InstanceStatus, InstanceWatch, RuntimeStatus } from "../../clients/index.js";
import { describeError, formatTime, h, replace } from "./dom.js";
import { Pager } from "./pager.js";
import { instanceHash, type DashboardContext, type View } from "./view.js";

const PAGE_SIZE = 25;
const STATUSES: readonly RuntimeStatus[] = ["Pending", "Running", "Suspended", "Completed", "Failed", "Terminated"];

/** Orchestration instances, filtered by status, name and creation time, a page at a time; each row's status is live. */
export function instancesView(context: DashboardContext): View {
  const { client } = context;
  const statusBoxes = STATUSES.map((status) => h("input", { type: "checkbox", value: status, "data-status": status }));
  const name = h("select", { "aria-label": "orchestration", "data-testid": "filter-name" }, h("option", { value: "" }, "any orchestration"), ...context.orchestrations.map((n) => h("option", { value: n }, n)));
  const from = h("input", { type: "datetime-local", step: 1, "aria-label": "created from" });
  const to = h("input", { type: "datetime-local", step: 1, "aria-label": "created to" });
  const prefix = h("input", { type: "search", placeholder: "instance id prefix", "aria-label": "instance id prefix" });
  const rows = h("tbody", null);
  const message = h("p", { class: "meta" });
  let watches: InstanceWatch[] = [];
  let disposed = false;

  const closeWatches = () => {
    for (const watch of watches) void watch.close();
    watches = [];
  };
  const query = (continuation: string | undefined): InstanceQuery => {
    const statuses = statusBoxes.filter((box) => box.checked).map((box) => box.value as RuntimeStatus);
    const time = (input: HTMLInputElement) => (input.value === "" ? undefined : new Date(input.value).getTime());
    return {
      pageSize: PAGE_SIZE,
      ...(statuses.length > 0 ? { runtimeStatus: statuses } : {}),
      ...(name.value !== "" ? { name: name.value } : {}),
      ...(time(from) !== undefined ? { createdFrom: time(from) } : {}),
      ...(time(to) !== undefined ? { createdTo: time(to) } : {}),
      ...(prefix.value !== "" ? { instanceIdPrefix: prefix.value } : {}),
      ...(continuation !== undefined ? { continuation } : {}),
    };
  };
  const load = async (continuation: string | undefined) => {
    message.textContent = "loading…";
    try {
      const page = await client.list(query(continuation));
      if (disposed) return;
      pager.shown(continuation, page.continuation);
      closeWatches();
      replace(rows, ...page.instances.map(row));
      message.textContent = page.instances.length === 0 ? pager.emptyText("no instances match") : "";
    } catch (error) {
      if (!disposed) message.textContent = describeError(error);
    }
  };
  const row = (status: InstanceStatus) => {
    const runtime = h("td", null, badge(status.runtimeStatus));
    const updated = h("td", null, formatTime(status.lastUpdatedTime));
    // Live status: the watch's listener runs now and after every committed change of the instance.
    watches.push(
      client.watch(status.instanceId, (now) => {
        if (now === null) return replace(runtime, h("span", { class: "meta" }, "purged"));
        replace(runtime, badge(now.runtimeStatus));
        updated.textContent = formatTime(now.lastUpdatedTime);
      }),
    );
    return h(
      "tr",
      { "data-instance": status.instanceId },
      h("td", null, h("a", { href: instanceHash(status.instanceId) }, status.instanceId)),
      h("td", null, status.name),
      runtime,
      h("td", null, formatTime(status.createdTime)),
      updated,
    );
  };
  const pager = new Pager((continuation) => void load(continuation));
  const reload = () => pager.restart();

  const filters = h(
    "form",
    { class: "filters", onsubmit: (event: Event) => (event.preventDefault(), reload()) },
    h("fieldset", null, h("legend", null, "status"), ...statusBoxes.map((box) => h("label", null, box, box.value))),
    h("label", null, "name ", name),
    h("label", null, "created from ", from),
    h("label", null, "to ", to),
    prefix,
    h("button", { type: "submit", "data-testid": "apply-filters" }, "apply"),
  );
  const element = h(
    "section",
    { class: "instances" },
    h("h2", null, "Orchestration instances"),
    filters,
    h("div", { class: "toolbar" }, pager.previous, pager.next),
    h("table", { "data-testid": "instances" }, h("thead", null, h("tr", null, h("th", null, "instance"), h("th", null, "orchestration"), h("th", null, "status"), h("th", null, "created"), h("th", null, "last updated"))), rows),
    message,
  );
  void load(undefined);
  return {
    element,
    dispose: () => {
      disposed = true;
      closeWatches();
    },
  };
}

/** A runtime status as a coloured label. */
export function badge(status: RuntimeStatus): HTMLElement {
  return h("span", { class: `badge status-${status.toLowerCase()}`, "data-testid": "runtime-status" }, status);
}
