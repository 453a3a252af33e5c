import { DURABLE_HTTP_PREFIX, isDurableHttpPath } from "./durable-http/links.js";
import { HEALTH_PATH } from "./health-routes.js";
import { METRICS_PATH } from "./metrics-route.js";
import type { HttpHandler } from "./transport.js";

/** The liveness probe: public, answers while the server runs. */
export const HEALTHZ_PATH = "/healthz";

/** Paths the server answers itself whatever the app's routes say: a probe, a scraper or the dashboard counts on each meaning the server. */
const RESERVED_PATHS: readonly string[] = [METRICS_PATH, HEALTH_PATH, HEALTHZ_PATH];

/**
 * Refuses an app's `httpRoutes` that would take one of the server's own paths (`/metrics`,
 * `/api/health`, `/healthz`, Durable Functions' HTTP API), under any method: the server's route
 * wins there, so the app's would be dead without a word. Thrown at start, naming the route.
 */
export function checkAppRoutes(routes: Readonly<Record<string, HttpHandler>> | undefined): void {
  for (const key of Object.keys(routes ?? {})) {
    const path = key.slice(key.indexOf(" ") + 1);
    if (RESERVED_PATHS.includes(path) || isDurableHttpPath(path)) {
      const what = isDurableHttpPath(path) ? `paths below ${DURABLE_HTTP_PREFIX} are Durable Functions' HTTP API` : `${path} is the server's own`;
      throw new Error(`httpRoutes["${key}"] cannot be served: ${what} (${RESERVED_PATHS.join(", ")} and ${DURABLE_HTTP_PREFIX} are reserved); serve the app's route at another path`);
    }
  }
}
