import type { HealthHistory } from "../observability/health-history.js";
import type { HealthSample } from "../observability/health-sample.js";
import { json } from "./http-routes.js";
import type { HttpHandler } from "./transport.js";

/**
 * Where the dashboard's Health view reads the server's last minutes. Not public: with authentication
 * configured any valid token reads it (the access gate), no grant is needed: unlike `/metrics`, the
 * samples are whole-server sums that name no entity type or orchestration.
 */
export const HEALTH_PATH = "/api/health";

/** The body of `GET /api/health`: samples oldest first, one per `intervalMs`. */
export interface HealthHistoryBody {
  readonly intervalMs: number;
  readonly samples: readonly HealthSample[];
}

/** `GET /api/health`: the samples the history holds now, never cached (they change every interval). */
export function healthRoutes(history: HealthHistory): Record<string, HttpHandler> {
  return {
    [`GET ${HEALTH_PATH}`]: async () => {
      const response = json(200, { intervalMs: history.intervalMs, samples: history.samples } satisfies HealthHistoryBody);
      return { ...response, headers: { ...response.headers, "cache-control": "no-store" } };
    },
  };
}
