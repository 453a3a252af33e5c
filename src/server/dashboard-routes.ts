import { join } from "node:path";
import { builtFile, packageRoot } from "./browser-client.js";
import type { HttpHandler } from "./transport.js";

/** Where the dashboard's built files are served (`npm run build` writes them to dist/dashboard/). */
export const DASHBOARD_ASSETS = ["/dashboard/dashboard.js", "/dashboard/dashboard.js.map", "/dashboard/dashboard.css"] as const;

/** The dashboard's code and style hold no secrets (the data comes over the authenticated WebSocket). */
const ASSET_HEADERS = { "cache-control": "no-cache", "x-content-type-options": "nosniff" };

/** The page: a shell the bundle fills in; the token of `?token=` stays in the address, where the bundle reads it. */
const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>durable-entities dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/dashboard.css">
</head>
<body>
<div id="app"><p class="meta">loading the dashboard…</p></div>
<noscript>The dashboard needs JavaScript.</noscript>
<script type="module" src="/dashboard/dashboard.js"></script>
</body>
</html>
`;

/**
 * The dashboard: its page at `/dashboard/` (and `/dashboard`), and at `/` unless `atRoot` is false (a
 * server with a static directory leaves `/` to that directory's index.html); its built script, source
 * map and style under `/dashboard/`.
 */
export function dashboardRoutes(options: { atRoot: boolean }): Record<string, HttpHandler> {
  const dir = join(packageRoot(), "dist", "dashboard");
  const page: HttpHandler = async () => ({ status: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" }, body: PAGE_HTML });
  return {
    ...(options.atRoot ? { "GET /": page } : {}),
    "GET /dashboard": page,
    "GET /dashboard/": page,
    "GET /dashboard/dashboard.js": builtFile(join(dir, "dashboard.js"), "text/javascript; charset=utf-8", ASSET_HEADERS, "the dashboard"),
    "GET /dashboard/dashboard.js.map": builtFile(join(dir, "dashboard.js.map"), "application/json; charset=utf-8", ASSET_HEADERS, "the dashboard"),
    "GET /dashboard/dashboard.css": builtFile(join(dir, "dashboard.css"), "text/css; charset=utf-8", ASSET_HEADERS, "the dashboard"),
  };
}
