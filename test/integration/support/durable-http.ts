/** An answer of the HTTP API, read whole. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is empty or not JSON). */
  readonly body: any;
}

export interface RequestOptions {
  /** Sent as it is; with `json`, the value is stringified and sent as application/json. */
  readonly body?: string;
  readonly json?: unknown;
  readonly headers?: Record<string, string>;
}

/** Plain `fetch` against a server's Durable Functions HTTP API. */
export function durableApi(serverUrl: string) {
  const base = `${serverUrl}/runtime/webhooks/durabletask`;
  const request = async (method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<ApiAnswer> => {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${base}${pathOrUrl}`;
    const headers: Record<string, string> = { ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }
    const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  return {
    base,
    get: (path: string, options?: RequestOptions) => request("GET", path, options),
    post: (path: string, options?: RequestOptions) => request("POST", path, options),
    delete: (path: string, options?: RequestOptions) => request("DELETE", path, options),
    request,
    /** Polls a status link (as a client of the asynchronous HTTP pattern does) until it answers 200. */
    async pollUntilDone(statusUrl: string, timeoutMs = 10_000): Promise<ApiAnswer> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = await request("GET", statusUrl);
        if (answer.status !== 202) return answer;
        if (Date.now() > deadline) throw new Error(`${statusUrl} still answered 202 after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

export type DurableApi = ReturnType<typeof durableApi>;
