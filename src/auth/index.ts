// Authentication: API tokens, OIDC JWTs, principals and scopes, and the Fastify hook.
export { SCOPES, grants, isScope, canonicalScopes, type Scope } from './scopes.js';
export {
  ANONYMOUS, AuthError, actorOf, describePrincipal, requireScope, scopeError, unauthorized,
  type AuthErrorCode, type AuthReason, type AuthStatus, type OidcPrincipal, type Principal, type TokenPrincipal,
} from './principal.js';
export { AuthInputError, parseExpiry, parseScopes, parseTokenName } from './input.js';
export {
  createToken, hashTokenSecret, parseToken, verifyToken, TOKEN_PREFIX,
  type NewToken, type TokenRecord, type TokenRecords,
} from './tokens.js';
export { OidcVerifier, type OidcOptions } from './oidc.js';
export { scopeFor } from './route-scope.js';
export { bindRequiresAuth, isLoopbackHost } from './loopback.js';
export { registerAuth, type AuthOptions } from './fastify.js';
export { storeTokens, tokenUseRecorder } from './records.js';
