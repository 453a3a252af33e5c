import { errorMessage, type Logger } from "../log.js";
import type { AccessPolicy, AccessTarget, Action, AuthRequest, Principal } from "./access.js";

/** An app module's own access hooks: `export function authenticate(request)` and `export function authorize(principal, action, target)`. */
export interface AccessHooks {
  authenticate(request: AuthRequest): Principal | null | undefined | Promise<Principal | null | undefined>;
  authorize(principal: Principal, action: Action, target: AccessTarget): boolean;
}

/** The hooks of an app module, when it exports both; an error when it exports only one (a half-configured guard). */
export function accessHooksOf(app: Record<string, unknown> | Iterable<unknown>): AccessHooks | undefined {
  if (Symbol.iterator in app) return undefined;
  const { authenticate, authorize } = app as { authenticate?: unknown; authorize?: unknown };
  if (authenticate === undefined && authorize === undefined) return undefined;
  if (typeof authenticate !== "function" || typeof authorize !== "function") {
    throw new Error("the app exports only one of authenticate and authorize; export both functions (or neither)");
  }
  return { authenticate: authenticate as AccessHooks["authenticate"], authorize: authorize as AccessHooks["authorize"] };
}

/**
 * Access decided by the app's hooks. A hook that throws denies (the error is logged): a guard that
 * fails must fail closed. Only an object from `authenticate` is a principal; `null`, `false` and any
 * other value mean "not authenticated".
 */
export class AppHooksPolicy implements AccessPolicy {
  constructor(
    private readonly hooks: AccessHooks,
    private readonly log: Logger,
  ) {}

  async authenticate(request: AuthRequest): Promise<Principal | undefined> {
    try {
      const principal: unknown = await this.hooks.authenticate(request);
      if (principal === null || principal === undefined || principal === false) return undefined;
      // Only an object is a principal: `0`, `""` or a name string let in would be a request without a principal.
      if (typeof principal === "object" || typeof principal === "function") return principal as Principal;
      this.log.warn("the app's authenticate hook answered something that is not a principal object; the request is refused", { answered: typeof principal });
      return undefined;
    } catch (error) {
      this.log.warn("the app's authenticate hook threw; the request is refused", { error: errorMessage(error) });
      return undefined;
    }
  }

  authorize(principal: Principal, action: Action, target: AccessTarget): boolean {
    try {
      return this.hooks.authorize(principal, action, target) === true;
    } catch (error) {
      this.log.warn("the app's authorize hook threw; the request is refused", { error: errorMessage(error), action });
      return false;
    }
  }
}
