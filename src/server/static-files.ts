import { constants } from "node:fs";
import { open, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { ErrorCode } from "../../protocol/index.js";
import { contentTypeOf } from "./content-types.js";
import { echo, json } from "./http-routes.js";
import { parseStaticPath } from "./static-path.js";
import type { HttpHandler, HttpRequest, HttpResponse } from "./transport.js";

/** Largest file served (the transports send a response from memory). */
export const MAX_STATIC_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Checks a static directory and returns its handler (`--static DIR`): GET and HEAD of the files under
 * it at `/` paths, `index.html` for a directory. Rejects, with a message for a person, when `dir` is
 * not a directory or holds one of `private` (the data directory: its files would be served).
 */
export async function openStaticFiles(dir: string, options: { readonly private?: readonly string[] } = {}): Promise<HttpHandler> {
  const root = await staticRoot(dir);
  for (const path of options.private ?? []) {
    if (await isInside(root, path)) {
      throw new Error(`the static directory ${dir} holds ${path}, whose files it would serve; put the pages in a folder of their own`);
    }
  }
  return (request) => serveStatic(root, request);
}

async function staticRoot(dir: string): Promise<string> {
  let root: string;
  try {
    root = await realpath(resolve(dir));
  } catch {
    throw new Error(`the static directory ${dir} does not exist`);
  }
  if (!(await stat(root)).isDirectory()) throw new Error(`the static directory ${dir} is not a directory`);
  return root;
}

/** True when `path` (existing or not; symlinks followed where it exists) is `root` or under it. */
async function isInside(root: string, path: string): Promise<boolean> {
  const absolute = resolve(path);
  const real = await realpath(absolute).catch(() => absolute);
  return [absolute, real].some((candidate) => within(root, candidate));
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function serveStatic(root: string, request: HttpRequest): Promise<HttpResponse> {
  const parsed = parseStaticPath(request.path);
  if (!parsed.ok) return json(parsed.status, { code: parsed.status === 400 ? ErrorCode.bad_request : ErrorCode.not_found, message: parsed.message });
  const target = await resolveInside(root, join(root, ...parsed.segments));
  if (target === undefined) return notFound(request.path);
  if (target.directory) {
    if (!parsed.directory) return { status: 301, headers: { location: `${request.path}/`, "content-type": "text/plain; charset=utf-8" }, body: "" };
    const index = await resolveInside(root, join(target.path, "index.html"));
    if (index === undefined || index.directory) return notFound(request.path);
    return sendFile(index.path, request);
  }
  if (parsed.directory) return notFound(request.path);
  return sendFile(target.path, request);
}

/** The real path of `path` when it exists and, symlinks followed, stays under `root`. */
async function resolveInside(root: string, path: string): Promise<{ path: string; directory: boolean } | undefined> {
  try {
    const real = await realpath(path);
    if (!within(root, real)) return undefined;
    return { path: real, directory: (await stat(real)).isDirectory() };
  } catch {
    return undefined;
  }
}

async function sendFile(path: string, request: HttpRequest): Promise<HttpResponse> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW); // replaced by a symlink since resolveInside: refused
  } catch {
    return notFound(request.path);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return notFound(request.path);
    if (info.size > MAX_STATIC_FILE_BYTES) {
      return json(413, { code: ErrorCode.payload_too_large, message: `${echo(request.path)} is larger than the ${MAX_STATIC_FILE_BYTES / 1024 / 1024} MiB a static file may be` });
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers = {
      "content-type": contentTypeOf(path),
      "cache-control": "no-cache", // revalidated each time (cheap with the ETag), so an edited page shows at once
      etag,
      "last-modified": info.mtime.toUTCString(),
      "x-content-type-options": "nosniff",
    };
    if (matchesEtag(request.headers["if-none-match"], etag)) return { status: 304, headers, body: "" };
    return { status: 200, headers, body: await handle.readFile() }; // the transports send a HEAD's headers only
  } finally {
    await handle.close();
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const trimmed = tag.trim();
    return trimmed === "*" || trimmed === etag || `W/${trimmed}` === etag;
  });
}

function notFound(path: string): HttpResponse {
  return json(404, { code: ErrorCode.not_found, message: `nothing at ${echo(path)}` });
}
