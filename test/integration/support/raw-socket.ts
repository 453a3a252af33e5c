import WebSocket from "ws";

/** A bare protocol peer over `ws`, for tests that send exactly the bytes they mean. */
export class RawSocket {
  readonly frames: Array<Record<string, unknown>> = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const parsed = JSON.parse(data.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
      for (const frame of Array.isArray(parsed) ? parsed : [parsed]) this.frames.push(frame);
      this.notify();
    });
    socket.on("close", (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static async open(port: number): Promise<RawSocket> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const raw = new RawSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return raw;
  }

  /** Opens a socket and completes the handshake. */
  static async greeted(port: number, clientId?: string): Promise<RawSocket> {
    const raw = await RawSocket.open(port);
    raw.send({ type: "hello", version: 1, ...(clientId ? { clientId } : {}) });
    await raw.waitFor((f) => f.type === "welcome");
    return raw;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Resolves with the first received frame matching `predicate` (waiting for it if needed). */
  async waitFor(predicate: (frame: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the expected frame`);
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitForClose(timeoutMs = 10_000): Promise<number> {
    await this.waitFor(() => false, timeoutMs).catch(() => undefined);
    if (this.closeCode === undefined) throw new Error("socket did not close");
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
