import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contentTypeOf } from "../../../src/server/content-types.js";
import { json, routeHttp } from "../../../src/server/http-routes.js";
import { openStaticFiles } from "../../../src/server/static-files.js";
import type { HttpRequest } from "../../../src/server/transport.js";

const request = (method: string, path: string, headers: Record<string, string> = {}): HttpRequest => ({ method, path, query: "", headers, body: Buffer.alloc(0) });

describe("openStaticFiles", () => {
  const root = mkdtempSync(join(tmpdir(), "durable-entities-static-unit-"));
  const site = join(root, "site");
  mkdirSync(join(site, "sub"), { recursive: true });
  writeFileSync(join(site, "index.html"), "home");
  writeFileSync(join(site, "sub", "page.css"), "p{}");
  writeFileSync(join(root, "outside.txt"), "outside");
  symlinkSync(join(root, "outside.txt"), join(site, "out.txt"));
  symlinkSync(root, join(site, "parent"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("serves files with types and validators, index.html for /, a 301 for a folder without its slash", async () => {
    const serve = await openStaticFiles(site);
    const home = await serve(request("GET", "/"));
    expect(home).toMatchObject({ status: 200, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" } });
    expect(String(home.body)).toBe("home");
    const css = await serve(request("GET", "/sub/page.css"));
    expect(css.headers?.["content-type"]).toBe("text/css; charset=utf-8");
    expect(await serve(request("GET", "/sub/page.css", { "if-none-match": css.headers!.etag! }))).toMatchObject({ status: 304 });
    expect(await serve(request("GET", "/sub"))).toMatchObject({ status: 301, headers: { location: "/sub/" } });
  });

  it("does not follow symlinks out of the directory", async () => {
    const serve = await openStaticFiles(site);
    for (const path of ["/out.txt", "/parent/outside.txt"]) {
      const response = await serve(request("GET", path));
      expect(response.status, path).toBe(404);
      expect(JSON.parse(String(response.body))).toMatchObject({ code: "not_found" });
    }
    // Decided by where a path ends up: one that leaves and comes back names a file inside.
    expect(String((await serve(request("GET", "/parent/site/index.html"))).body)).toBe("home");
  });

  it("refuses to open a missing directory, a file, or one holding the data directory", async () => {
    await expect(openStaticFiles(join(root, "nope"))).rejects.toThrow(/does not exist/);
    await expect(openStaticFiles(join(site, "index.html"))).rejects.toThrow(/is not a directory/);
    await expect(openStaticFiles(site, { private: [join(site, "data")] })).rejects.toThrow(/holds .*data, whose files it would serve/);
    await expect(openStaticFiles(site, { private: [join(root, "data")] })).resolves.toBeTypeOf("function");
  });

  it("is the fallback of GET and HEAD only, never for the WebSocket path or a route", async () => {
    const route = routeHttp({ "GET /healthz": async () => json(200, { status: "ok" }) }, await openStaticFiles(site));
    expect((await route(request("GET", "/"))).status).toBe(200);
    expect((await route(request("HEAD", "/"))).status).toBe(200);
    expect((await route(request("POST", "/"))).status).toBe(404);
    expect((await route(request("GET", "/ws"))).status).toBe(426); // the WebSocket path: open a WebSocket there
    expect(JSON.parse(String((await route(request("GET", "/healthz"))).body))).toEqual({ status: "ok" });
  });
});

describe("contentTypeOf", () => {
  it("maps common extensions, case-insensitively, and falls back to octet-stream", () => {
    expect(contentTypeOf("a.HTML")).toBe("text/html; charset=utf-8");
    expect(contentTypeOf("a.mjs")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeOf("a.wasm")).toBe("application/wasm");
    expect(contentTypeOf("Makefile")).toBe("application/octet-stream");
  });
});
