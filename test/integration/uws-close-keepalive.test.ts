import { Agent, get } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

/**
 * After `RunningServer.close()`, HTTP connections that were open (keep-alive) get no more answers from
 * the closed server, on either transport. uWebSockets.js leaves them open when its listening socket
 * closes, and would go on answering on them with the hubs closed (`/api/health` serving the stopped
 * sampler's frozen samples): the dashboard's Health view, polling every 2 s, never idles out, and after
 * an in-process restart on the same port it would show the old server forever.
 */

function request(url: string, agent?: Agent): Promise<string> {
  return new Promise((resolve) => {
    const req = get(url, agent === undefined ? {} : { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(`status ${res.statusCode}`));
    });
    req.on("error", (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    req.setTimeout(20_000, () => req.destroy(new Error("timed out")));
  });
}

describe.each(TRANSPORTS)("a keep-alive HTTP connection open when the server closes (%s)", (transport) => {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
  });

  it("gets no more answers from the closed server", async () => {
    const server = await startTestServer(transport);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    expect(await request(`${server.url}/api/health`, agent)).toBe("status 200");
    await server.stop();
    const after = await request(`${server.url}/api/health`, agent); // the same connection, if it is still open
    expect(after).not.toBe("status 200");
  });

  it("gets no more answers from the closed server while another request is still being answered", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowStarted = false;
    const server = await startTestServer(transport, {
      httpRoutes: {
        "GET /slow": async () => {
          slowStarted = true;
          await released;
          return { status: 200, headers: { "content-type": "text/plain" }, body: "late" };
        },
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    expect(await request(`${server.url}/api/health`, agent)).toBe("status 200");
    const slow = request(`${server.url}/slow`); // on a connection of its own
    await until(() => slowStarted, 10_000);
    const stopping = server.stop();
    const after = await request(`${server.url}/api/health`, agent);
    release();
    await stopping;
    await slow; // answered or cut, as the transport does; either way it settles
    expect(after).not.toBe("status 200");
  });
});
