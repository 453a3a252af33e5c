/**
 * Who may do what. A principal is what authentication yields (a token's entry, or whatever an app's own
 * `authenticate` hook returns); every request is then authorized as an action on a target.
 */

/** What can be done to entities: `read` is a get (and listing), `signal` covers deleting one. */
export const ENTITY_ACTIONS = ["signal", "call", "read", "subscribe"] as const;
/** What can be done to orchestrations: `manage` is terminate, suspend, resume, rewind and purge. */
export const ORCHESTRATION_ACTIONS = ["start", "status", "raise", "manage"] as const;

export type EntityAction = (typeof ENTITY_ACTIONS)[number];
export type OrchestrationAction = (typeof ORCHESTRATION_ACTIONS)[number];
export type Action = EntityAction | OrchestrationAction;

/**
 * What an action is on: one entity (`Counter/alice`), the entities of a type (listing, optionally by key
 * prefix), every entity (maintenance such as `clean`), or the orchestrations of a name (`*` for any).
 */
export type AccessTarget =
  | { readonly kind: "entity"; readonly id: string }
  | { readonly kind: "entities"; readonly type: string; readonly prefix?: string }
  | { readonly kind: "all-entities" }
  | { readonly kind: "orchestration"; readonly name: string };

/** Whoever made a request, as authentication found them; `name` is for logs. */
export interface Principal {
  readonly name: string;
}

/** The parts of an HTTP request (or WebSocket upgrade) that authentication looks at. */
export interface AuthRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  /** Lowercase names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The token the request carries (bearer header, `token` query parameter or WebSocket protocol), if any. */
  readonly token: string | undefined;
}

/** Authentication and authorization, as the server applies them to every connection and request. */
export interface AccessPolicy {
  /** Undefined when the request is not authenticated (no token, a wrong one). */
  authenticate(request: AuthRequest): Principal | undefined | Promise<Principal | undefined>;
  authorize(principal: Principal, action: Action, target: AccessTarget): boolean;
  /** Reads its configuration again (the tokens file on SIGHUP); open connections are authorized by what it now says. */
  reload?(): Promise<void>;
  /** False once what admitted the principal was taken back (a reload removed its token): its connections are closed. */
  stillValid?(principal: Principal): boolean;
}

/** What a target is called in a `forbidden` message. */
export function describeTarget(target: AccessTarget): string {
  switch (target.kind) {
    case "entity":
      return target.id;
    case "entities":
      return `${target.type}/${target.prefix ?? ""}*`;
    case "all-entities":
      return "all entities";
    case "orchestration":
      return target.name === "*" ? "any orchestration" : `orchestration ${target.name}`;
  }
}
