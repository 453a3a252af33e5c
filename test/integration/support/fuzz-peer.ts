import WebSocket from "ws";
import { ServerFrame, type ErrorCode } from "../../../protocol/index.js";
import { ID_MARK, PAD_MARK, type Expect, type FuzzMessage } from "./fuzz-model.js";

/** A stack trace's line, or a stack frame ("at fn (/path/file.js:1:2)") in text meant for a client. */
export const STACK_TRACE = /\n\s*at \S|\bat (?:new |async )?[\w.<>$[\]]+ \((?:file:\/\/)?\/[^\s()]+:\d+:\d+\)|\bat file:\/\/\/\S+:\d+:\d+/;

/** What answered a request: the frame type, and for errors the code. */
interface Answer {
  readonly type: string;
  readonly code?: ErrorCode;
}

interface Sent {
  readonly expect: Expect;
  readonly message: FuzzMessage | undefined;
  /** Which of the message's requests it is. */
  readonly index: number;
}

function shown(text: string, max = 200): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length} characters)` : text);
}

function describe(message: FuzzMessage | undefined, index?: number): string {
  if (!message) return "a check request";
  const request = index === undefined ? undefined : message.requests?.[index];
  if (request !== undefined) return `${message.label}, the frame ${shown(request.replaceAll(ID_MARK, "<id>"))}`;
  return `${message.label} ${message.text !== undefined ? shown(message.text.replaceAll(ID_MARK, "<id>").replaceAll(PAD_MARK, "<pad>")) : `<${message.bytes?.length} bytes>`}`;
}

/**
 * One fuzzing connection with a token: sends fuzz messages (giving their requests fresh ids), reads
 * every answer, and says afterwards what went wrong: a request answered twice or not at all or with
 * the wrong code, an answer to a request never made, an error without id that was not due, a frame
 * outside the protocol, a stack trace in a message.
 */
export class FuzzPeer {
  private nextId = 1;
  private readonly sent = new Map<number, Sent>();
  private readonly answers = new Map<number, Answer[]>();
  private readonly idless: ErrorCode[] = [];
  private readonly expectedIdless: ErrorCode[] = [];
  /** Requests sent that must still be answered. */
  private pending = 0;
  private readonly problems: string[] = [];
  private readonly values = new Map<number, unknown>();
  closeCode: number | undefined;
  private welcomes = 0;
  private lastMessages: FuzzMessage[] = [];

  private constructor(
    private readonly socket: WebSocket,
    /** The server's message size limit: only a message meant to close the connection may pass it. */
    private readonly maxMessageBytes: number,
  ) {
    socket.on("message", (data, isBinary) => this.receive(data.toString(), isBinary));
    socket.on("close", (code) => (this.closeCode = code));
    socket.on("error", () => {});
  }

  static async open(port: number, token: string, maxMessageBytes: number): Promise<FuzzPeer> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const peer = new FuzzPeer(socket, maxMessageBytes);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return peer;
  }

  /** Completes the handshake. */
  async hello(clientId: string): Promise<void> {
    this.socket.send(JSON.stringify({ type: "hello", version: 1, clientId }));
    const deadline = Date.now() + 10_000;
    while (this.welcomes === 0) {
      if (this.closeCode !== undefined || Date.now() > deadline) throw new Error(`no welcome (closed: ${this.closeCode})`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Sends a message, its ID_MARKs replaced by fresh ids and its PAD_MARK padded to size. */
  send(message: FuzzMessage): void {
    this.lastMessages = [...this.lastMessages.slice(-2), message];
    for (const code of message.idless) this.expectedIdless.push(code);
    const fits = (bytes: number) => {
      if (message.closes === undefined && bytes > this.maxMessageBytes) throw new Error(`the fuzz model is wrong: ${describe(message)} is ${bytes} bytes, over the limit, but is not expected to close the connection`);
    };
    if (message.bytes !== undefined) {
      fits(message.bytes.length);
      this.socket.send(message.bytes, { binary: message.bytesAsText !== true });
      return;
    }
    let index = 0;
    let text = message.text!.replace(/\u0001/g, () => {
      const id = this.nextId++;
      this.expectAnswer(id, message.expects[index]!, message, index++);
      return String(id);
    });
    if (index !== message.expects.length) throw new Error(`the model of ${describe(message)} has ${message.expects.length} expectations for ${index} requests`);
    if (message.padTo !== undefined) {
      const unpadded = Buffer.byteLength(text) - 1;
      text = text.replace(PAD_MARK, "x".repeat(message.padTo - unpadded));
      if (Buffer.byteLength(text) !== message.padTo) throw new Error(`padding ${describe(message)} went wrong`);
    }
    fits(Buffer.byteLength(text));
    this.socket.send(text);
  }

  /** Sends one well-formed request (`frame` without its id); returns the id. */
  request(frame: Record<string, unknown>, expect: Expect = "ok"): number {
    const id = this.nextId++;
    this.expectAnswer(id, expect, undefined, 0);
    this.socket.send(JSON.stringify({ ...frame, id }));
    return id;
  }

  /** The value a request was answered with (`result.value`, `state.state`). */
  valueOf(id: number): unknown {
    return this.values.get(id);
  }

  /** Resolves once every request that must be answered is, and every due error without id came; rejects on `deadline` or when `stop()` says why to give up. */
  async settle(timeoutMs: number, stop: () => string | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 || this.idless.length < this.expectedIdless.length) {
      let reason = stop() ?? (Date.now() > deadline ? `no answers for ${timeoutMs} ms` : undefined);
      if (reason === undefined && this.closeCode !== undefined) {
        // A connection cut (1006) may be the server dying: give it a moment to be seen exiting.
        for (let wait = 0; wait < 100 && stop() === undefined; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
        reason = `the connection closed (${this.closeCode})${stop() === undefined ? "" : `: ${stop()}`}`;
      }
      if (reason !== undefined) throw new Error(`${reason}\nwhile waiting for answers: ${this.unanswered()}\nthe last messages sent: ${this.lastMessages.map(describe).join(" | ")}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async closed(timeoutMs: number): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return this.closeCode;
  }

  close(): void {
    this.socket.close();
  }

  /** Everything that broke the rules, after the answers settled. */
  check(): string[] {
    const problems = [...this.problems];
    for (const [id, { expect, message, index }] of this.sent) {
      const answers = this.answers.get(id) ?? [];
      const got = answers.map((a) => (a.code ? `error ${a.code}` : a.type)).join(", ") || "nothing";
      const wrong = (why: string) => problems.push(`request ${id} (${describe(message, index)}): expected ${expect}, got ${got}${why}`);
      if (expect === "none") {
        if (answers.length > 0) wrong(": its message was refused whole");
        continue;
      }
      if (answers.length !== 1) {
        wrong(" (a request is answered exactly once)");
        continue;
      }
      const [answer] = answers as [Answer];
      if (expect === "ok" && answer.type === "error") wrong("");
      else if (expect === "error" && answer.type !== "error") wrong("");
      else if (expect !== "ok" && expect !== "error" && expect !== "any" && answer.code !== expect) wrong("");
    }
    for (const id of this.answers.keys()) if (!this.sent.has(id)) problems.push(`an answer to request ${id}, which was never sent`);
    const count = (codes: readonly ErrorCode[]) => JSON.stringify(Object.entries(codes.reduce<Record<string, number>>((n, c) => ({ ...n, [c]: (n[c] ?? 0) + 1 }), {})).sort());
    if (count(this.idless) !== count(this.expectedIdless)) problems.push(`errors without id: expected ${count(this.expectedIdless)}, got ${count(this.idless)}`);
    return problems;
  }

  private expectAnswer(id: number, expect: Expect, message: FuzzMessage | undefined, index: number): void {
    this.sent.set(id, { expect, message, index });
    if (expect !== "none") this.pending++;
  }

  private answer(id: number, answer: Answer): void {
    const list = this.answers.get(id);
    if (list) return void list.push(answer);
    this.answers.set(id, [answer]);
    const sent = this.sent.get(id);
    if (sent && sent.expect !== "none") this.pending--;
  }

  private receive(text: string, isBinary: boolean): void {
    if (isBinary) return void this.problems.push("the server sent a binary message");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return void this.problems.push(`the server sent a message that is not JSON: ${shown(text)}`);
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const read = ServerFrame.safeParse(item);
      if (!read.success) {
        this.problems.push(`the server sent a frame outside the protocol: ${shown(JSON.stringify(item))}`);
        continue;
      }
      const frame = read.data;
      switch (frame.type) {
        case "error":
          if (STACK_TRACE.test(frame.message)) this.problems.push(`an error message holds a stack trace: ${shown(frame.message, 400)}`);
          if (frame.id === undefined && frame.ids === undefined) this.idless.push(frame.code);
          for (const id of frame.ids ?? (frame.id === undefined ? [] : [frame.id])) this.answer(id, { type: "error", code: frame.code });
          break;
        case "ack":
          for (const id of frame.ids) this.answer(id, { type: "ack" });
          break;
        case "result":
          this.values.set(frame.id, frame.value);
          this.answer(frame.id, { type: "result" });
          break;
        case "state":
          this.values.set(frame.id, frame.state);
          this.answer(frame.id, { type: "state" });
          break;
        case "snapshot":
        case "instance":
          if (frame.id !== undefined) this.answer(frame.id, { type: frame.type });
          break;
        case "welcome":
          if (++this.welcomes > 1) this.problems.push("a second welcome");
          break;
        case "patch":
          break;
      }
    }
  }

  private unanswered(): string {
    const missing = [...this.sent].filter(([id, { expect }]) => expect !== "none" && !this.answers.has(id));
    const listed = missing.slice(0, 5).map(([id, { expect, message, index }]) => `request ${id} (expects ${expect}; ${describe(message, index)})`);
    return `${missing.length} requests unanswered${listed.length > 0 ? `: ${listed.join("; ")}` : ""}; errors without id ${this.idless.length} of ${this.expectedIdless.length}`;
  }
}
