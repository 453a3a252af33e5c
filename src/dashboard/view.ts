import type { DurableClient } from "../../clients/index.js";

/** What every view gets: the connection, the page's token, and the names the server hosts (from /healthz). */
export interface DashboardContext {
  readonly client: DurableClient;
  /** The `?token=` the page was opened with (a server with --auth): sent as a Bearer token on the dashboard's HTTP reads. */
  readonly token: string | undefined;
  readonly entityTypes: readonly string[];
  readonly orchestrations: readonly string[];
}

/** A screen of the dashboard; `dispose` closes its subscriptions and watches. */
export interface View {
  readonly element: HTMLElement;
  dispose(): void;
}

/** Where a hash points: `#/entities`, `#/entities/Counter`, `#/entities/Counter/alice`, `#/instances`, `#/instances/<id>`, `#/health`. */
export type Route =
  | { readonly view: "entities"; readonly type?: string }
  | { readonly view: "entity"; readonly type: string; readonly key: string }
  | { readonly view: "instances" }
  | { readonly view: "instance"; readonly instanceId: string }
  | { readonly view: "health" };

/** Reads a location hash; anything unknown is the entities list. Segments are URI-decoded; a key keeps its slashes. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/");
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  if (parts[0] === "health") return { view: "health" };
  if (parts[0] === "instances") {
    const id = parts.slice(1).join("/");
    return id === "" ? { view: "instances" } : { view: "instance", instanceId: decode(id) };
  }
  if (parts[0] === "entities" && parts[1]) {
    const key = parts.slice(2).join("/");
    return key === "" ? { view: "entities", type: decode(parts[1]) } : { view: "entity", type: decode(parts[1]), key: decode(key) };
  }
  return { view: "entities" };
}

/** The hash of an entity's page (its key may hold slashes; each part is encoded). */
export function entityHash(entityId: string): string {
  const slash = entityId.indexOf("/");
  return `#/entities/${encodeURIComponent(entityId.slice(0, slash))}/${encodeURIComponent(entityId.slice(slash + 1))}`;
}

export function instanceHash(instanceId: string): string {
  return `#/instances/${encodeURIComponent(instanceId)}`;
}
