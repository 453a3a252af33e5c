import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseResponse, rawExchange } from "./support/raw-http.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";
import { makeStaticSite } from "./support/static-site.js";
import { freePort, tempDataDir, TRANSPORTS } from "./support/test-server.js";

/** A whole HTTP/1.1 request for `target`, sent as given (no client normalises its dots or escapes). */
async function get(port: number, target: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  const headerLines = Object.entries({ host: "127.0.0.1", connection: "close", ...options.headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  const { reply } = await rawExchange(port, `${options.method ?? "GET"} ${target} HTTP/1.1\r\n${headerLines.join("")}\r\n`, 10_000);
  return parseResponse(reply);
}

/** Ways out of the static directory; none may answer with the secret beside it. */
const TRAVERSALS = [
  "/../secret.txt",
  "/docs/../../secret.txt",
  "/%2e%2e/secret.txt",
  "/%2E%2E/secret.txt",
  "/.%2e/secret.txt",
  "/docs/%2e%2e/%2e%2e/secret.txt",
  "/..%2fsecret.txt",
  "/docs%2f..%2f..%2fsecret.txt",
  "/..%5csecret.txt",
  "/..\\secret.txt",
  "/%252e%252e/secret.txt",
  "/secret.txt%00.html",
  "/%c0%ae%c0%ae/secret.txt",
  "/leak.txt",
  "/up/secret.txt",
  "//secret.txt",
];

describe.each(TRANSPORTS)("serve --static over %s", (transport) => {
  const site = makeStaticSite();
  const data = tempDataDir();
  let server: { child: ChildProcess; url: string };
  let port: number;
  beforeAll(async () => {
    server = await startServerProcess(["--transport", transport, "--static", site.site, "--data", data.path, "--port", String(await freePort())]);
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await killAndWait(server.child, "SIGTERM");
    data.cleanup();
    site.cleanup();
  });

  it("serves the directory's files at / paths with their content types, and index.html for / and folders", async () => {
    const cases: Array<[string, string, string]> = [
      ["/", "text/html; charset=utf-8", "my page"],
      ["/index.html", "text/html; charset=utf-8", "my page"],
      ["/app.js", "text/javascript; charset=utf-8", "answer = 42"],
      ["/style.css", "text/css; charset=utf-8", "color: red"],
      ["/data.json", "application/json; charset=utf-8", '{"ok":true}'],
      ["/logo.svg", "image/svg+xml", "<svg"],
      ["/blob.bin", "application/octet-stream", "\u0000\u0001"],
      ["/name%20with%20space.txt", "text/plain; charset=utf-8", "spaced"],
      ["/docs/", "text/html; charset=utf-8", "docs index"],
      ["/docs/guide.html?v=2", "text/html; charset=utf-8", "guide"],
      ["/guide-link.html", "text/html; charset=utf-8", "guide"], // a symlink that stays inside
    ];
    for (const [path, type, text] of cases) {
      const response = await get(port, path);
      expect(response.status, path).toBe(200);
      expect(response.headers["content-type"], path).toBe(type);
      expect(response.headers["x-content-type-options"], path).toBe("nosniff");
      expect(response.body, path).toContain(text);
    }
    const folder = await get(port, "/docs");
    expect(folder.status).toBe(301);
    expect(folder.headers.location).toBe("/docs/");
  });

  it("answers HEAD with the headers only, and revalidates with an ETag (304)", async () => {
    const full = await get(port, "/app.js");
    expect(full.headers["cache-control"]).toBe("no-cache");
    expect(full.headers["last-modified"]).toMatch(/GMT$/);
    const etag = full.headers.etag!;
    expect(etag).toMatch(/^W\/".+"$/);
    const head = await get(port, "/app.js", { method: "HEAD" });
    expect(head).toMatchObject({ status: 200, body: "" });
    expect(head.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(head.headers.etag).toBe(etag);
    const again = await get(port, "/app.js", { headers: { "if-none-match": etag } });
    expect(again).toMatchObject({ status: 304, body: "" });
    expect((await get(port, "/app.js", { headers: { "if-none-match": 'W/"other"' } })).status).toBe(200);
  });

  it("answers a missing file, a hidden file and a folder without index.html with a JSON 404", async () => {
    for (const path of ["/missing.html", "/docs/missing/", "/.env", "/docs/empty/", "/app.js/"]) {
      const response = await get(port, path);
      expect(response.status, path).toBe(404);
      expect(response.headers["content-type"], path).toBe("application/json; charset=utf-8");
      expect(JSON.parse(response.body), path).toMatchObject({ code: "not_found", message: expect.any(String) });
    }
    const post = await get(port, "/index.html", { method: "POST", headers: { "content-length": "0" } });
    expect(post.status).toBe(404);
  });

  it("refuses every way out of the directory: .. (plain and encoded), encoded slashes and backslashes, NUL, symlinks out", async () => {
    for (const path of TRAVERSALS) {
      const response = await get(port, path);
      expect([400, 404], `${path} answered ${response.status}`).toContain(response.status);
      expect(response.body, path).not.toContain("SECRET");
      expect(JSON.parse(response.body), path).toMatchObject({ code: expect.stringMatching(/^(bad_request|not_found)$/), message: expect.any(String) });
    }
  });

  it("leaves /healthz, /client.js, /demo and /ws to the server, and the demo page works beside the files", async () => {
    expect(JSON.parse((await get(port, "/healthz")).body)).toMatchObject({ status: "ok" });
    const client = await get(port, "/client.js");
    expect(client.body).toContain("connect");
    expect(client.body).not.toContain("static client.js");
    expect((await get(port, "/client.js.map")).body).not.toContain("static client.js.map");
    const demo = await get(port, "/demo");
    expect(demo.body).toContain("durable-entities: live state");
    const ws = await get(port, "/ws");
    expect(ws.body).not.toContain("static ws");
  });
});

describe("serve --static refusals", () => {
  it("refuses a static directory that does not exist, is a file, or holds the data directory, before creating anything", async () => {
    const site = makeStaticSite();
    try {
      const cases: Array<[string[], RegExp]> = [
        [["--static", join(site.root, "nope"), "--data", join(site.root, "d1")], /^error: the static directory .*nope does not exist/],
        [["--static", join(site.site, "app.js"), "--data", join(site.root, "d2")], /^error: the static directory .*app\.js is not a directory/],
        [["--static", site.site, "--data", join(site.site, "data")], /^error: the static directory .* holds .*data, whose files it would serve/],
        [["--static", site.root, "--data", join(site.root, "d3")], /^error: the static directory .* holds .*d3/],
      ];
      for (const [args, pattern] of cases) {
        const result = await runCliToEnd(["serve", "--port", "0", ...args]);
        expect(result.code, args.join(" ")).toBe(1);
        expect(result.stderr, args.join(" ")).toMatch(pattern);
      }
      for (const dir of ["d1", "d2", "d3"]) expect(existsSync(join(site.root, dir)), dir).toBe(false);
      expect(existsSync(join(site.site, "data"))).toBe(false);
    } finally {
      site.cleanup();
    }
  });
});
