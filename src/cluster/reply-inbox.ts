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

/** A request waiting for its reply. */
interface OpenRequest {
  /** Takes one reply message; true once the reply is complete. */
  readonly onReply: (data: Uint8Array) => boolean;
  readonly finish: (end: ReplyEnd) => void;
  readonly timer: NodeJS.Timeout;
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

  constructor(private readonly connection: NatsConnection) {}

  /**
   * Publishes `data` on `subject` and hands each reply message to `onReply` until it returns true;
   * gives up when no reply message comes for `idleMs`. Resolves with how it ended, never rejects.
   */
  request(subject: string, data: Uint8Array, idleMs: number, onReply: (data: Uint8Array) => boolean): Promise<ReplyEnd> {
    return new Promise<ReplyEnd>((resolve) => {
      const token = (this.nextToken++).toString(36);
      const finish = (end: ReplyEnd) => {
        if (this.open.get(token) !== request) return;
        this.open.delete(token);
        clearTimeout(request.timer);
        resolve(end);
      };
      const request: OpenRequest = { onReply, finish, timer: setTimeout(() => finish(TIMEOUT), idleMs) };
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
    request.timer.refresh();
    // A handler that throws (it should not) leaves its request without an answer: it times out.
    if (request.onReply(message.data)) request.finish(REPLIED);
  }

  private failAll(error: Error): void {
    const reason = error.message;
    for (const request of [...this.open.values()]) request.finish({ kind: "failed", reason });
  }
}
