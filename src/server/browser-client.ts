import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "../../protocol/index.js";
import { json } from "./http-routes.js";
import type { HttpHandler } from "./transport.js";

/** The package's root folder, found from this file (works from src/ under tsx and from dist/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/**
 * Headers of the browser client and its source map: readable by pages of any origin (the client holds no
 * secrets; a page elsewhere may `import("http://host:port/client.js")`), revalidated on every load.
 */
const CLIENT_HEADERS = {
  "access-control-allow-origin": "*",
  "cross-origin-resource-policy": "cross-origin",
  "cache-control": "no-cache",
  "x-content-type-options": "nosniff",
};

/**
 * The browser build of the client (`dist/browser/client.js`, made by `npm run build`) as an ES module at
 * `/client.js`, and its source map at `/client.js.map`, both with CORS for any origin.
 */
export function browserClientRoutes(): Record<string, HttpHandler> {
  const dir = join(packageRoot(), "dist", "browser");
  return {
    "GET /client.js": builtFile(join(dir, "client.js"), "text/javascript; charset=utf-8", CLIENT_HEADERS, "the browser client"),
    "GET /client.js.map": builtFile(join(dir, "client.js.map"), "application/json; charset=utf-8", CLIENT_HEADERS, "the browser client"),
  };
}

/** A file of dist/ made by `npm run build`, read once and kept; a 404 saying to build when it is missing. */
export function builtFile(file: string, contentType: string, headers: Record<string, string>, what: string): HttpHandler {
  let cached: Promise<Buffer> | undefined;
  return async () => {
    cached ??= readFile(file);
    try {
      return { status: 200, headers: { "content-type": contentType, ...headers }, body: await cached };
    } catch {
      cached = undefined;
      return json(404, { code: ErrorCode.not_found, message: `${what} is not built; run npm run build` });
    }
  };
}
