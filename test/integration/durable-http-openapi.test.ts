import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { DURABLE_HTTP_ROUTES } from "../../src/server/durable-http/index.js";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi } from "./support/durable-http.js";
import { startTestServer } from "./support/test-server.js";

describe("the HTTP API's OpenAPI document", () => {
  it("is served at /runtime/webhooks/durabletask/openapi.json, validates as OpenAPI 3.1 and names every route", async () => {
    const server = await startTestServer("uws", { app });
    try {
      const answer = await durableApi(server.url).get("/openapi.json");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
      const document = answer.body as { openapi: string; paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> };
      expect(document.openapi).toBe("3.1.0");
      const result = await new Validator().validate(document as never);
      expect(result.errors).toBeUndefined();
      expect(result.valid).toBe(true);

      const named = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
      const routes = DURABLE_HTTP_ROUTES.map((route) => `${route.method} /runtime/webhooks/durabletask${route.path}`);
      expect(named.sort()).toEqual(routes.sort());
      for (const expected of [
        "POST /runtime/webhooks/durabletask/orchestrators/{functionName}",
        "POST /runtime/webhooks/durabletask/orchestrators/{functionName}/{instanceId}",
        "GET /runtime/webhooks/durabletask/instances/{instanceId}",
        "GET /runtime/webhooks/durabletask/instances",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/raiseEvent/{eventName}",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/terminate",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/suspend",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/resume",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/rewind",
        "POST /runtime/webhooks/durabletask/instances/{instanceId}/restart",
        "DELETE /runtime/webhooks/durabletask/instances/{instanceId}",
        "DELETE /runtime/webhooks/durabletask/instances",
        "POST /runtime/webhooks/durabletask/entities/{entityName}/{entityKey}",
        "DELETE /runtime/webhooks/durabletask/entities/{entityName}/{entityKey}",
        "GET /runtime/webhooks/durabletask/entities/{entityName}/{entityKey}",
        "GET /runtime/webhooks/durabletask/entities/{entityName}",
        "GET /runtime/webhooks/durabletask/openapi.json",
      ]) {
        expect(named).toContain(expected);
      }
      // Every operation documents its parameters (taskHub among them) and its error answers.
      const list = document.paths["/runtime/webhooks/durabletask/instances"]!.get as unknown as { parameters: Array<{ name: string; in: string }> };
      expect(list.parameters.map((parameter) => `${parameter.in} ${parameter.name}`)).toEqual(
        expect.arrayContaining(["query taskHub", "query connection", "query code", "query runtimeStatus", "query top", "header x-ms-continuation-token"]),
      );
    } finally {
      await server.stop();
    }
  });
});
