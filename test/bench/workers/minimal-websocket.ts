/**
 * The least a load process can do to hold a WebSocket open and read text messages: a plain TCP
 * socket, the HTTP upgrade, and a frame parser for unmasked, unfragmented text frames (what the server
 * sends). Ten thousand subscribers on a 2-core machine that also runs the server cannot afford a full
 * WebSocket library per message; the real client is measured by the `client` driver instead.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const OPCODE_TEXT = 0x1;
/** Reads land in this one buffer (`onread` bypasses Node's stream machinery); a partial frame is copied out. */
const READ_BUFFER = Buffer.alloc(256 * 1024);
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

export interface MinimalWebSocketHandlers {
  onMessage(text: string): void;
  onClose(): void;
  onError(message: string): void;
}

export class MinimalWebSocket {
  open = false;
  private pending: Buffer | undefined;
  private upgraded = false;

  private constructor(
    private readonly socket: Socket,
    private readonly handlers: MinimalWebSocketHandlers,
  ) {}

  /** Opens `ws://host:port/path`; resolves once the server accepted the upgrade. */
  static open(url: string, handlers: MinimalWebSocketHandlers): Promise<MinimalWebSocket> {
    const { hostname, port, pathname } = new URL(url);
    let ws: MinimalWebSocket | undefined;
    let onConnected: (ws: MinimalWebSocket) => void = () => {};
    let onRefused: (error: Error) => void = () => {};
    const onData = (chunk: Buffer) => {
      if (ws!.upgraded) return ws!.read(chunk);
      const rest = ws!.readUpgrade(chunk);
      if (rest === undefined) return;
      if (!ws!.upgraded) return onRefused(new Error("the server refused the WebSocket upgrade"));
      onConnected(ws!);
      if (rest.length > 0) ws!.read(rest);
    };
    const socket = connect({
      host: hostname,
      port: Number(port),
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (bytes, buffer) => {
          onData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes));
          return true;
        },
      },
    });
    ws = new MinimalWebSocket(socket, handlers);
    return new Promise((resolve, reject) => {
      onConnected = resolve;
      onRefused = reject;
      socket.once("connect", () => {
        const key = randomBytes(16).toString("base64");
        socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
      socket.on("error", (error) => {
        if (!ws!.upgraded) reject(error);
        else handlers.onError(`socket: ${error.message}`);
      });
      socket.on("close", () => {
        ws!.open = false;
        handlers.onClose();
      });
    });
  }

  send(text: string): void {
    this.socket.write(frame(OPCODE_TEXT, Buffer.from(text, "utf8")));
  }

  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end(frame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8])));
    });
  }

  /** Consumes the HTTP response; returns what follows it, or undefined while it is incomplete. */
  private readUpgrade(chunk: Buffer): Buffer | undefined {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    const end = data.indexOf("\r\n\r\n");
    if (end < 0) {
      this.pending = Buffer.from(data);
      return undefined;
    }
    this.pending = undefined;
    this.upgraded = data.subarray(0, end).toString("latin1").startsWith("HTTP/1.1 101");
    this.open = this.upgraded;
    return data.subarray(end + 4);
  }

  private read(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (data.length >= 2) {
      const opcode = data[0]! & 0x0f;
      let length = data[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (data.length < 4) break;
        length = data.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (data.length < 10) break;
        length = Number(data.readBigUInt64BE(2));
        offset = 10;
      }
      if (data.length < offset + length) break;
      const payload = data.subarray(offset, offset + length);
      data = data.subarray(offset + length);
      if (opcode === OPCODE_TEXT) this.handlers.onMessage(payload.toString("utf8"));
      else if (opcode === OPCODE_PING) this.socket.write(frame(OPCODE_PONG, payload));
      else if (opcode === OPCODE_CLOSE) this.socket.end();
      else this.handlers.onError(`unexpected WebSocket opcode ${opcode} (fragmented or binary message)`);
    }
    if (data.length > 0) this.pending = Buffer.from(data);
  }
}

/** A masked client frame, as RFC 6455 requires of clients. */
function frame(opcode: number, payload: Buffer): Buffer {
  const lengthBytes = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = 0x80 | opcode;
  if (lengthBytes === 0) header[1] = 0x80 | payload.length;
  else if (lengthBytes === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(header, 2 + lengthBytes);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, masked]);
}
