import { createHash, timingSafeEqual } from "node:crypto";
import type { AccessPolicy, AccessTarget, Action, AuthRequest, Principal } from "./access.js";
import { patternCovers } from "./grant-patterns.js";
import { readTokensFile, type Grant, type TokensFile } from "./tokens-file.js";

/** A token's holder: its name and grants, and which token it is (its hash, hex) so a reload can find it again. */
interface TokenPrincipal extends Principal {
  readonly grants: readonly Grant[];
  readonly tokenId: string;
}

interface HashedToken {
  readonly hash: Buffer;
  readonly principal: TokenPrincipal;
}

function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Access by the tokens of a tokens file (`--auth FILE`). Only the tokens' SHA-256 hashes are kept; a
 * presented token is hashed and compared with every known hash in constant time, so neither the
 * comparison nor the number of matching bytes tells an attacker anything.
 */
export class TokenPolicy implements AccessPolicy {
  private tokens: readonly HashedToken[];
  /** The tokens in force, by id: a principal admitted before a reload is authorized by its token's grants now. */
  private current: ReadonlyMap<string, TokenPrincipal>;

  private constructor(
    private readonly path: string | undefined,
    file: TokensFile,
  ) {
    this.tokens = TokenPolicy.hash(file);
    this.current = TokenPolicy.index(this.tokens);
  }

  /** From a file, read now and again on each `reload()`. */
  static async fromFile(path: string): Promise<TokenPolicy> {
    return new TokenPolicy(path, await readTokensFile(path));
  }

  /** From tokens given in code (tests, embedding). */
  static fromTokens(file: TokensFile): TokenPolicy {
    return new TokenPolicy(undefined, file);
  }

  authenticate(request: AuthRequest): Principal | undefined {
    if (request.token === undefined) return undefined;
    const hash = hashToken(request.token);
    let found: TokenPrincipal | undefined;
    for (const token of this.tokens) if (timingSafeEqual(token.hash, hash)) found = token.principal; // no early exit
    return found;
  }

  authorize(principal: Principal, action: Action, target: AccessTarget): boolean {
    const grants = this.current.get((principal as TokenPrincipal).tokenId)?.grants ?? []; // a revoked token may do nothing
    const onEntities = target.kind !== "orchestration";
    return grants.some((grant) => {
      const pattern = "entities" in grant ? (onEntities ? grant.entities : undefined) : onEntities ? undefined : grant.orchestrations;
      if (pattern === undefined) return false;
      return (grant.actions as readonly string[]).some((granted) => granted === "*" || granted === action) && patternCovers(pattern, target);
    });
  }

  /** Reads the file again; on an error the tokens in force stay as they were (and the error is thrown). */
  async reload(): Promise<void> {
    if (this.path === undefined) return;
    this.tokens = TokenPolicy.hash(await readTokensFile(this.path));
    this.current = TokenPolicy.index(this.tokens);
  }

  stillValid(principal: Principal): boolean {
    return this.current.has((principal as TokenPrincipal).tokenId);
  }

  private static hash(file: TokensFile): HashedToken[] {
    return Object.entries(file.tokens).map(([token, entry]) => {
      const hash = hashToken(token);
      return { hash, principal: { name: entry.name, grants: entry.grants, tokenId: hash.toString("hex") } };
    });
  }

  private static index(tokens: readonly HashedToken[]): Map<string, TokenPrincipal> {
    return new Map(tokens.map((token) => [token.principal.tokenId, token.principal]));
  }
}
