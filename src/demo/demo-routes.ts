import type { HttpHandler } from "../server/index.js";
import { DEMO_PAGE_HTML } from "./demo-page.js";

/** The demo page at /demo (served with the built-in demo app only; `/` is the dashboard's). */
export function demoRoutes(options: { demoPage: boolean }): Record<string, HttpHandler> {
  if (!options.demoPage) return {};
  const page = async () => ({ status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: DEMO_PAGE_HTML });
  return { "GET /demo": page };
}
