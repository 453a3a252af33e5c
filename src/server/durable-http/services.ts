import { ErrorCode } from "../../../protocol/index.js";
import type { Logger } from "../../log.js";
import type { OrchestrationHost } from "../../orchestration/index.js";
import type { AccessTarget, Action, Principal } from "../../security/index.js";
import type { TaskHub } from "../task-hub.js";
import { CompletionWaits } from "./completion-waits.js";
import { HttpProblem } from "./problems.js";

/** The server's access checks, as the HTTP API uses them (the access gate implements it). */
export interface AccessCheck {
  /** False when the server runs without a policy (everything is allowed). */
  readonly authenticating: boolean;
  allows(principal: Principal | undefined, action: Action, target: AccessTarget): boolean;
  forbidden(principal: Principal | undefined, action: Action, target: AccessTarget, about?: string): string;
}

/**
 * The task hubs the API serves (TaskHubs implements it): `get` rejects with an error carrying a `code`
 * (`not_found` for a hub that does not exist, with `create: false`).
 */
export interface HubSource {
  get(name?: string, options?: { readonly create?: boolean }): Promise<TaskHub>;
  /** The hub when it is open already (no wait). */
  peek?(name?: string): TaskHub | undefined;
}

export interface DurableHttpOptions {
  readonly hubs: HubSource;
  readonly log: Logger;
  /** Who may do what; without it every request is allowed. */
  readonly access?: AccessCheck;
  /** How clients reach the server (`https` with TLS): the scheme of the links built from a request's Host. */
  readonly scheme?: "http" | "https";
  /** The server's own address, for links when a request carries no usable Host header. */
  readonly origin: () => string;
}

/** What route handlers share: the options, and one set of completion waits per orchestration host. */
export class DurableHttpServices {
  private readonly waits = new WeakMap<OrchestrationHost, CompletionWaits>();

  constructor(readonly options: DurableHttpOptions) {}

  get log(): Logger {
    return this.options.log;
  }

  completionWaits(host: OrchestrationHost): CompletionWaits {
    let waits = this.waits.get(host);
    if (!waits) this.waits.set(host, (waits = new CompletionWaits(host)));
    return waits;
  }

  /** Whether requests are checked at all (reads that only serve a check are skipped when not). */
  get authorizing(): boolean {
    return this.options.access?.authenticating === true;
  }

  /** Throws 403 unless `principal` may do `action` on `target`; the refusal names `about` when given (an instance, never its orchestration). */
  authorize(principal: Principal | undefined, action: Action, target: AccessTarget, about?: string): void {
    const access = this.options.access;
    if (access === undefined || access.allows(principal, action, target)) return;
    throw new HttpProblem(403, ErrorCode.forbidden, access.forbidden(principal, action, target, about));
  }
}
