import { describe, expect, it } from "vitest";
import * as app from "../fixtures/durable-http-app.js";
import { durableApi } from "./support/durable-http.js";
import { startTestServer } from "./support/test-server.js";

describe("Durable Functions' HTTP API: listing instances", () => {
  it("pages through 250 instances with x-ms-continuation-token both ways, and no token on the last page", async () => {
    const server = await startTestServer("uws", { app });
    try {
      const api = durableApi(server.url);
      const ids = Array.from({ length: 250 }, (_, i) => `page-${String(i).padStart(3, "0")}`);
      for (let i = 0; i < ids.length; i += 50) {
        const answers = await Promise.all(ids.slice(i, i + 50).map((id, j) => api.post(`/orchestrators/Echo/${id}?timeout=10`, { json: { n: i + j } })));
        expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      }
      const seen: string[] = [];
      const sizes: number[] = [];
      let token: string | null = null;
      do {
        const page = await api.get("/instances", token === null ? {} : { headers: { "x-ms-continuation-token": token } });
        expect(page.status).toBe(200);
        sizes.push(page.body.length);
        for (const status of page.body as Array<{ instanceId: string; runtimeStatus: string; input: { n: number }; output: { n: number } }>) {
          expect(status).toMatchObject({ name: "Echo", runtimeStatus: "Completed", customStatus: { echoed: true } });
          expect(status.output).toEqual(status.input);
          seen.push(status.instanceId);
        }
        token = page.headers.get("x-ms-continuation-token");
      } while (token !== null);
      expect(sizes).toEqual([100, 100, 50]);
      expect(seen.sort()).toEqual(ids);

      const withoutInput = await api.get("/instances?top=5&showInput=false");
      expect((withoutInput.body as Array<{ input: unknown }>).map((status) => status.input)).toEqual([null, null, null, null, null]);
      const prefixed = await api.get("/instances?instanceIdPrefix=page-1&top=1000");
      expect((prefixed.body as Array<{ instanceId: string }>).map((status) => status.instanceId).sort()).toEqual(ids.filter((id) => id.startsWith("page-1")));
      expect(prefixed.headers.get("x-ms-continuation-token")).toBeNull();
      expect((await api.get("/instances?runtimeStatus=Running,Pending")).body).toEqual([]);
      expect((await api.get("/instances?runtimeStatus=completed&top=1000")).body).toHaveLength(250);
      expect((await api.get("/instances?runtimeStatus=ContinuedAsNew")).body).toEqual([]);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await api.get(`/instances?createdTimeFrom=${encodeURIComponent(future)}`)).body).toEqual([]);
      const past = new Date(Date.now() - 60 * 60_000).toISOString();
      expect((await api.get(`/instances?createdTimeTo=${encodeURIComponent(past)}`)).body).toEqual([]);
      const exact = await api.get("/instances?top=250");
      expect(exact.body).toHaveLength(250);
      expect(exact.headers.get("x-ms-continuation-token")).toBeNull();
    } finally {
      await server.stop();
    }
  });
});
