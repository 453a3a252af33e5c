import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "../../protocol/index.js";
import { json } from "./http-routes.js";
import type { HttpHandler } from "./transport.js";

/** The package's root folder, found from this file (works from src/ under tsx and from dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** Serves the browser build of the client (`dist/browser/client.js`, made by `npm run build`) as an ES module. */
export function browserClientRoute(): HttpHandler {
  const file = join(packageRoot(), "dist", "browser", "client.js");
  let cached: Promise<Buffer> | undefined;
  return async () => {
    cached ??= readFile(file);
    try {
      return { status: 200, headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }, body: await cached };
    } catch {
      cached = undefined;
      return json(404, { code: ErrorCode.not_found, message: "the browser client is not built; run npm run build" });
    }
  };
}
