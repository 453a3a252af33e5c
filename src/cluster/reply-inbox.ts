import { createInbox, type Msg, type NatsConnection, type Subscription } from "nats";
import { guarded } from "./nats-payloads.js";

/** How a request sent through a ReplyInbox ended. */
export type ReplyEnd =
  /** Its handler took the reply as complete (a good answer or not: the handler knows which). */
  | { readonly kind: "replied" }
  /** Nobody listens on the subject (NATS says so at once). */
  | { readonly kind: "no-responders" }
  /** No reply message for `idleMs`. */
  | { readonly kind: "timeout" }
  /** The request could not be sent (the connection is closed or draining), or its inbox failed. */
  | { readonly kind: "failed"; readonly reason: string };

/**
 * What one reply message was to its request, as its handler reads it: the reply is `complete`; it
 * brought `more` of the reply (the wait for the next message starts again); or it was `ignored`, not
 * part of the reply (a stranger's, another stream's, an empty frame): the wait goes on as if it never
 * came, so that messages nobody asked for cannot keep a request open.
 */
export type ReplyStep = "complete" | "more" | "ignored";

/** How long a request waits: `idleMs` for each next message of its reply, and never past `untilMs` (a Date.now() time) in all. */
export interface ReplyLimits {
  readonly idleMs: number;
  readonly untilMs: number;
}

/** A request waiting for its reply. */
interface OpenRequest {
  readonly onReply: (data: Uint8Array) => ReplyStep;
  readonly finish: (end: ReplyEnd) => void;
  readonly idle: NodeJS.Timeout;
  readonly until: NodeJS.Timeout;
}

const REPLIED: ReplyEnd = { kind: "replied" };
const NO_RESPONDERS: ReplyEnd = { kind: "no-responders" };
const TIMEOUT: ReplyEnd = { kind: "timeout" };

/**
 * Requests whose replies all come to one subscription, `<inbox>.*`, each request's on `<inbox>.<token>`:
 * what nats.js's `request()` does, except that a reply may take more than one message (an answer larger
 * than a NATS message comes in frames) and the request's handler says when it is complete. One
 * subscription for every request keeps a request as cheap as nats.js's: a subscription per request
 * (as `askPartition` makes) would add a subscribe and an unsubscribe to each batch of forwarded requests.
 */
export class ReplyInbox {
  private subscription: Subscription | undefined;
  private prefix = "";
  private nextToken = 0;
  private readonly open = new Map<string, OpenRequest>();

  constructor(private readonly connection: NatsConnection) {
    // Once the connection is closed no reply can come: what waits for one ends now, not at its timeout.
    void connection.closed().then(
      (error) => this.failAll(error ?? new Error("the NATS connection is closed")),
      (error: unknown) => this.failAll(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /**
   * Publishes `data` on `subject` and hands each reply message to `onReply` until it says the reply is
   * complete; gives up when no message of the reply comes for `limits.idleMs`, or at `limits.untilMs`
   * however the reply goes (a stream that never ends). Resolves with how it ended, never rejects.
   */
  request(subject: string, data: Uint8Array, limits: ReplyLimits, onReply: (data: Uint8Array) => ReplyStep): Promise<ReplyEnd> {
    return new Promise<ReplyEnd>((resolve) => {
      const token = (this.nextToken++).toString(36);
      const finish = (end: ReplyEnd) => {
        if (this.open.get(token) !== request) return;
        this.open.delete(token);
        clearTimeout(request.idle);
        clearTimeout(request.until);
        resolve(end);
      };
      const idle = setTimeout(() => finish(TIMEOUT), limits.idleMs);
      const until = setTimeout(() => finish(TIMEOUT), Math.max(limits.idleMs, limits.untilMs - Date.now()));
      const request: OpenRequest = { onReply, finish, idle, until };
      this.open.set(token, request);
      try {
        this.connection.publish(subject, data, { reply: this.inbox() + token });
      } catch (error) {
        finish({ kind: "failed", reason: (error as Error).message ?? String(error) });
      }
    });
  }

  /** The prefix of reply subjects, subscribed to on first use (and again if the subscription ended). */
  private inbox(): string {
    if (this.subscription === undefined || this.subscription.isClosed()) {
      const prefix = `${createInbox()}.`;
      this.subscription = this.connection.subscribe(`${prefix}*`, { callback: guarded((error: Error | null, message: Msg) => this.deliver(error, message), () => undefined) });
      this.prefix = prefix;
    }
    return this.prefix;
  }

  private deliver(error: Error | null, message: Msg): void {
    if (error) return this.failAll(error); // the subscription itself failed (a permission refused): no reply will come
    const request = this.open.get(message.subject.slice(this.prefix.length));
    if (request === undefined) return; // a late reply to a request given up on, or a stranger's
    if (message.data.length === 0 && message.headers?.code === 503) return request.finish(NO_RESPONDERS);
    // A handler that throws (it should not) leaves its request without an answer: it times out.
    const step = request.onReply(message.data);
    if (step === "complete") request.finish(REPLIED);
    else if (step === "more") request.idle.refresh();
  }

  private failAll(error: Error): void {
    const reason = error.message;
    for (const request of [...this.open.values()]) request.finish({ kind: "failed", reason });
  }
}
