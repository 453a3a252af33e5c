import { describe, expect, it } from "vitest";
import { isDurableHttpPath, linksFor, managementPayload, requestOrigin } from "../../../../src/server/durable-http/links.js";
import type { HttpRequest } from "../../../../src/server/index.js";

describe("links of the HTTP API", () => {
  it("take the origin from the Host header, with the server's scheme (https with TLS, or behind a TLS proxy)", () => {
    expect(requestOrigin({ host: "example.com:8443" }, "http://127.0.0.1:7071", "https")).toBe("https://example.com:8443");
    expect(requestOrigin({ host: "example.com", "x-forwarded-proto": "https" }, "http://127.0.0.1:7071")).toBe("https://example.com");
    expect(requestOrigin({ host: "[::1]:7071" }, "http://fallback")).toBe("http://[::1]:7071");
    expect(requestOrigin({ host: "evil.com/path?x" }, "http://127.0.0.1:7071")).toBe("http://127.0.0.1:7071"); // not a host: the server's own
    expect(requestOrigin({}, "http://127.0.0.1:7071")).toBe("http://127.0.0.1:7071");
  });

  it("carry the hub, the connection and the code, and leave Durable Functions' placeholders", () => {
    const request: HttpRequest = { method: "POST", path: "/runtime/webhooks/durabletask/orchestrators/X", query: "code=k&connection=Storage&x=1", headers: { host: "h:1" }, body: Buffer.alloc(0) };
    const links = linksFor(request, "blue", { origin: "http://fallback", scheme: "http" }, { connection: "Storage", code: "k" });
    expect(links).toEqual({ base: "http://h:1/runtime/webhooks/durabletask", suffix: "taskHub=blue&connection=Storage&code=k", self: "http://h:1/runtime/webhooks/durabletask/orchestrators/X?code=k&connection=Storage&x=1" });
    const payload = managementPayload(links.base, links.suffix, "a/b c");
    expect(payload.sendEventPostUri).toBe("http://h:1/runtime/webhooks/durabletask/instances/a%2Fb%20c/raiseEvent/{eventName}?taskHub=blue&connection=Storage&code=k");
    expect(payload.resumePostUri).toBe("http://h:1/runtime/webhooks/durabletask/instances/a%2Fb%20c/resume?reason={text}&taskHub=blue&connection=Storage&code=k");
  });

  it("know which paths are the API's", () => {
    expect(isDurableHttpPath("/runtime/webhooks/durabletask")).toBe(true);
    expect(isDurableHttpPath("/runtime/webhooks/durabletask/instances")).toBe(true);
    expect(isDurableHttpPath("/runtime/webhooks/durabletaskx")).toBe(false);
    expect(isDurableHttpPath("/healthz")).toBe(false);
  });
});
