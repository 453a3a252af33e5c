import { request, Agent } from "node:http";
import { describe, expect, it } from "vitest";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

/** One HTTP request over `agent`: status, headers and body. */
function fetchRaw(port: number, method: string, path: string, agent: Agent): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe.each(TRANSPORTS)("HTTP routes over %s", (transport) => {
  it("answers GET and HEAD on one kept-alive connection; HEAD has no body; unknown paths get 404 with a code", async () => {
    const server = await startTestServer(transport);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = await fetchRaw(server.port, "GET", "/healthz", agent);
      expect(get.status).toBe(200);
      expect(JSON.parse(get.body)).toMatchObject({ status: "ok" });
      const head = await fetchRaw(server.port, "HEAD", "/healthz", agent);
      expect(head).toMatchObject({ status: 200, body: "" });
      const again = await fetchRaw(server.port, "GET", "/nowhere", agent); // the connection is still in sync after HEAD
      expect(again.status).toBe(404);
      expect(JSON.parse(again.body)).toMatchObject({ code: "not_found" });
    } finally {
      agent.destroy();
      await server.stop();
    }
  });
});
