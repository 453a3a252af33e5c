/**
 * A minimal protocol driver over a raw `ws` socket: hello, then batches of signal frames, acks back.
 *
 * Why it exists next to the real client: it puts the least possible work on the load side (no promise
 * or pending-request object per signal, no per-frame schema validation of answers), so comparing
 * `--driver raw` with the default `--driver client` separates what the server can take from what the
 * client costs the load processes, which share the machine's cores with the server.
 */
import WebSocket from "ws";

export interface RawSignal {
  readonly id: number;
  readonly entity: string;
  readonly input: number;
}

export class RawConnection {
  private constructor(
    private readonly socket: WebSocket,
    readonly maxFramesPerMessage: number,
  ) {}

  /** Opens a socket to `url` (the server's http URL) and completes the handshake. */
  static open(url: string, clientId: string, onAcks: (ids: number[]) => void, onError: (message: string, id: number | undefined) => void): Promise<RawConnection> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      socket.once("open", () => socket.send(JSON.stringify({ type: "hello", version: 1, clientId })));
      socket.once("error", reject);
      socket.once("close", (code) => reject(new Error(`socket closed during the handshake (${code})`)));
      let welcomed = false;
      socket.on("message", (data: Buffer) => {
        const parsed = JSON.parse(data.toString("utf8")) as RawFrame | RawFrame[];
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
          if (frame.type === "ack") onAcks(frame.ids!);
          else if (frame.type === "welcome" && !welcomed) {
            welcomed = true;
            resolve(new RawConnection(socket, 1000));
          } else if (frame.type === "error") {
            // Equal errors released together come as one frame listing their ids.
            if (frame.ids) for (const id of frame.ids) onError(`${frame.code}: ${frame.message}`, id);
            else onError(`${frame.code}: ${frame.message}`, frame.id);
          }
        }
      });
    });
  }

  /** Sends signals as few messages as the frame limit allows. */
  sendSignals(signals: readonly RawSignal[], op: string): void {
    for (let start = 0; start < signals.length; start += this.maxFramesPerMessage) {
      const parts: string[] = [];
      for (const signal of signals.slice(start, start + this.maxFramesPerMessage)) {
        parts.push(`{"type":"signal","id":${signal.id},"entity":${JSON.stringify(signal.entity)},"op":${JSON.stringify(op)},"input":${signal.input}}`);
      }
      this.socket.send(`[${parts.join(",")}]`);
    }
  }

  close(): void {
    this.socket.close(1000);
  }
}

type RawFrame = { type: string; id?: number; ids?: number[]; code?: string; message?: string };
