import { describe, expect, it } from "vitest";
import { checkStatusPayload, createCheckStatusResponse } from "../../../../src/index.js";
import type { HttpRequest } from "../../../../src/server/index.js";
import { CheckStatusPayload } from "../../../../src/server/durable-http/schemas.js";

const base = "http://localhost:7071/runtime/webhooks/durabletask";

describe("createCheckStatusResponse", () => {
  it("answers a WHATWG Request with a 202 Response: Location, Retry-After: 10 and the links of Durable Functions", async () => {
    const response = createCheckStatusResponse(new Request("http://localhost:7071/api/orders?taskHub=Blue&code=k1", { method: "POST" }), "order 1");
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(202);
    expect(response.headers.get("retry-after")).toBe("10");
    const body = (await response.json()) as Record<string, string>;
    expect(CheckStatusPayload.parse(body)).toEqual(body);
    expect(response.headers.get("location")).toBe(body.statusQueryGetUri);
    expect(body).toEqual({
      id: "order 1",
      statusQueryGetUri: `${base}/instances/order%201?taskHub=Blue&code=k1`,
      sendEventPostUri: `${base}/instances/order%201/raiseEvent/{eventName}?taskHub=Blue&code=k1`,
      terminatePostUri: `${base}/instances/order%201/terminate?reason={text}&taskHub=Blue&code=k1`,
      purgeHistoryDeleteUri: `${base}/instances/order%201?taskHub=Blue&code=k1`,
      restartPostUri: `${base}/instances/order%201/restart?taskHub=Blue&code=k1`,
      suspendPostUri: `${base}/instances/order%201/suspend?reason={text}&taskHub=Blue&code=k1`,
      resumePostUri: `${base}/instances/order%201/resume?reason={text}&taskHub=Blue&code=k1`,
    });
  });

  it("answers the server's own HttpRequest (a route of ServerOptions.httpRoutes) with an HttpResponse", () => {
    const request: HttpRequest = { method: "POST", path: "/api/orders", query: "", headers: { host: "127.0.0.1:8080" }, body: Buffer.alloc(0) };
    const response = createCheckStatusResponse(request, "abc");
    expect(response.status).toBe(202);
    expect(response.headers).toMatchObject({ location: "http://127.0.0.1:8080/runtime/webhooks/durabletask/instances/abc", "retry-after": "10" });
    expect(JSON.parse(String(response.body))).toMatchObject({ id: "abc", terminatePostUri: "http://127.0.0.1:8080/runtime/webhooks/durabletask/instances/abc/terminate?reason={text}" });
  });

  it("points at another server (baseUrl) and hub when told", () => {
    const payload = checkStatusPayload(new Request("http://app.example/orders"), "x", { baseUrl: "http://127.0.0.1:7071/", taskHub: "green" });
    expect(payload.statusQueryGetUri).toBe("http://127.0.0.1:7071/runtime/webhooks/durabletask/instances/x?taskHub=green");
  });
});
