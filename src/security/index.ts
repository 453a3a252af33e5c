export { ENTITY_ACTIONS, ORCHESTRATION_ACTIONS, describeTarget, type AccessPolicy, type AccessTarget, type Action, type AuthRequest, type EntityAction, type OrchestrationAction, type Principal } from "./access.js";
export { AppHooksPolicy, accessHooksOf, type AccessHooks } from "./app-hooks-policy.js";
export { OriginPolicy } from "./origin-policy.js";
export { chosenProtocol, requestToken, PROTOCOL_NAME, TOKEN_PROTOCOL_PREFIX } from "./request-token.js";
export { TokenPolicy } from "./token-policy.js";
export { readTokensFile, type TokensFile } from "./tokens-file.js";
