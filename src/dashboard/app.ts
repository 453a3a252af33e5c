import "./dashboard.css";
import { connect } from "../../clients/index.js";
import { h, replace, describeError } from "./dom.js";
import { entitiesView } from "./entities-view.js";
import { entityView } from "./entity-view.js";
import { healthView } from "./health-view.js";
import { instancesView } from "./instances-view.js";
import { instanceView } from "./instance-view.js";
import { parseRoute, type DashboardContext, type View } from "./view.js";

/** The dashboard: a header (navigation, connection), and the view the location hash names. */
async function main(): Promise<void> {
  const root = document.getElementById("app")!;
  const status = h("span", { class: "status", "data-testid": "status", "data-state": "connecting" }, "connecting…");
  const navEntities = h("a", { href: "#/entities" }, "Entities");
  const navInstances = h("a", { href: "#/instances" }, "Orchestrations");
  const navHealth = h("a", { href: "#/health" }, "Health");
  const main = h("main", null);
  replace(root, h("header", null, h("strong", null, "durable-entities"), h("nav", null, navEntities, navInstances, navHealth), status), main);
  const showConnection = (connected: boolean) => {
    status.dataset.state = connected ? "connected" : "disconnected";
    status.textContent = connected ? "connected" : "disconnected: reconnecting…";
    document.body.classList.toggle("offline", !connected);
  };
  let context: DashboardContext;
  try {
    // On a server with --auth the page is opened as /?token=…: the same token opens the WebSocket.
    const token = new URLSearchParams(location.search).get("token") ?? undefined;
    const [client, health] = await Promise.all([
      connect(location.origin, { token, onConnectionChange: showConnection }),
      fetch("/healthz").then((response) => response.json() as Promise<{ entities?: string[]; orchestrations?: string[] }>),
    ]);
    showConnection(client.connected);
    context = { client, token, entityTypes: [...(health.entities ?? [])].sort(), orchestrations: [...(health.orchestrations ?? [])].sort() };
  } catch (error) {
    status.dataset.state = "disconnected";
    status.textContent = `could not connect: ${describeError(error)}`;
    return;
  }
  let current: View | undefined;
  const render = () => {
    current?.dispose();
    const route = parseRoute(location.hash);
    navEntities.classList.toggle("active", route.view === "entities" || route.view === "entity");
    navInstances.classList.toggle("active", route.view === "instances" || route.view === "instance");
    navHealth.classList.toggle("active", route.view === "health");
    current =
      route.view === "entity" ? entityView(context, route.type, route.key)
      : route.view === "instances" ? instancesView(context)
      : route.view === "instance" ? instanceView(context, route.instanceId)
      : route.view === "health" ? healthView(context)
      : entitiesView(context, route.type);
    replace(main, current.element);
    document.body.dataset.view = route.view;
  };
  window.addEventListener("hashchange", render);
  render();
}

void main();
