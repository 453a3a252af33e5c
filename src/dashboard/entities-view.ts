import type { ListedEntity } from "../../clients/index.js";
import { describeError, formatTime, h, replace } from "./dom.js";
import { Pager } from "./pager.js";
import { entityHash, type DashboardContext, type View } from "./view.js";

const PAGE_SIZE = 25;

/** Entity types with their counts, and, for the chosen type, its keys: search by prefix, a page at a time. */
export function entitiesView(context: DashboardContext, type: string | undefined): View {
  const types = h("ul", { class: "types", "data-testid": "entity-types" });
  const keys = h("section", { class: "keys" });
  const element = h("div", { class: "split" }, h("aside", null, h("h2", null, "Entity types"), types), keys);
  let disposed = false;

  for (const name of context.entityTypes) {
    const count = h("span", { class: "count" }, "…");
    types.append(h("li", { class: name === type ? "active" : undefined, "data-type": name }, h("a", { href: `#/entities/${encodeURIComponent(name)}` }, name), count));
    context.client.listEntities({ type: name, pageSize: 1, count: true }).then(
      (page) => (count.textContent = String(page.count ?? "?")),
      () => (count.textContent = "–"), // not allowed to list this type
    );
  }
  if (context.entityTypes.length === 0) types.append(h("li", { class: "meta" }, "this server hosts no entities"));

  if (type === undefined) {
    replace(keys, h("p", { class: "meta" }, "Choose an entity type to list its keys."));
    return { element, dispose: () => {} };
  }

  const prefix = h("input", { type: "search", placeholder: "key prefix", "aria-label": "key prefix", "data-testid": "key-prefix" });
  const rows = h("tbody", null);
  const message = h("p", { class: "meta" });

  const load = async (continuation: string | undefined) => {
    message.textContent = "loading…";
    try {
      const page = await context.client.listEntities({ type, prefix: prefix.value || undefined, pageSize: PAGE_SIZE, continuation, includeDeleted: false });
      if (disposed) return;
      pager.shown(continuation, page.continuation);
      replace(rows, ...page.entities.map(row));
      message.textContent = page.entities.length === 0 ? pager.emptyText("no entities") : "";
    } catch (error) {
      if (!disposed) message.textContent = describeError(error);
    }
  };
  const pager = new Pager((continuation) => void load(continuation));
  const row = (entity: ListedEntity) =>
    h(
      "tr",
      { "data-entity": entity.id },
      h("td", null, h("a", { href: entityHash(entity.id) }, entity.id.slice(type.length + 1))),
      h("td", { class: "num" }, entity.version),
      h("td", null, formatTime(entity.lastModified)),
      h("td", null, entity.lockedBy === undefined ? "" : h("a", { href: `#/instances/${encodeURIComponent(entity.lockedBy)}` }, entity.lockedBy)),
    );
  let typing: ReturnType<typeof setTimeout> | undefined;
  prefix.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => pager.restart(), 200);
  });

  replace(
    keys,
    h("h2", null, type),
    h("div", { class: "toolbar" }, prefix, pager.previous, pager.next),
    h("table", { "data-testid": "entity-keys" }, h("thead", null, h("tr", null, h("th", null, "key"), h("th", null, "version"), h("th", null, "last modified"), h("th", null, "locked by"))), rows),
    message,
  );
  void load(undefined);
  return {
    element,
    dispose: () => {
      disposed = true;
      clearTimeout(typing);
    },
  };
}
