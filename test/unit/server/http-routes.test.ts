import { describe, expect, it } from "vitest";
import { echo, json, MAX_ECHOED_CHARS, routeHttp } from "../../../src/server/http-routes.js";
import type { HttpRequest } from "../../../src/server/transport.js";

const request = (method: string, path: string): HttpRequest => ({ method, path, query: "", headers: {}, body: Buffer.alloc(0) });

describe("routeHttp", () => {
  const route = routeHttp({ "GET /healthz": async () => json(200, { status: "ok" }) });

  it("answers a 100 KB unknown path with a small 404 that shows the path's start, marked as cut", async () => {
    const path = `/${"z".repeat(100_000)}`;
    const response = await route(request("GET", path));
    expect(response.status).toBe(404);
    expect(String(response.body).length).toBeLessThan(300);
    const body = JSON.parse(String(response.body)) as { code: string; message: string };
    expect(body.code).toBe("not_found");
    expect(body.message).toBe(`nothing at ${path.slice(0, MAX_ECHOED_CHARS)}… (cut; 100001 characters); the WebSocket endpoint is /ws`);
  });

  it("answers a plain HTTP request to /ws with 426 and what to do instead", async () => {
    const response = await route(request("GET", "/ws"));
    expect(response.status).toBe(426);
    expect(JSON.parse(String(response.body))).toEqual({ code: "bad_request", message: "/ws is the WebSocket endpoint: open a WebSocket to it (an HTTP request with Upgrade: websocket)" });
  });

  it("shows a short path whole, and bounds a long method in a 405", async () => {
    expect(JSON.parse(String((await route(request("GET", "/nowhere"))).body))).toEqual({ code: "not_found", message: "nothing at /nowhere; the WebSocket endpoint is /ws" });
    const response = await route(request("X".repeat(5000), "/healthz"));
    expect(response.status).toBe(405);
    expect(String(response.body).length).toBeLessThan(300);
  });
});

describe("echo", () => {
  it("keeps text up to the limit and cuts longer text", () => {
    expect(echo("a".repeat(MAX_ECHOED_CHARS))).toBe("a".repeat(MAX_ECHOED_CHARS));
    expect(echo("a".repeat(MAX_ECHOED_CHARS + 1))).toBe(`${"a".repeat(MAX_ECHOED_CHARS)}… (cut; ${MAX_ECHOED_CHARS + 1} characters)`);
  });
});
