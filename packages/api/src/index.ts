export { buildApi, type ApiDeps } from './app.ts';
export { loadProfileApiConfig, PROFILE_API_SETTINGS, type ProfileApiConfig } from './config.ts';
export { ApiKeyStore, bearerToken, hashKey, keyId, newKey, parseScopes, SCOPES, type ApiKeyRecord, type Scope } from './keys.ts';
export { createApiMetrics, type ApiMetrics } from './metrics.ts';
export { PROBLEM_TYPE, problemOf, STATUS_OF, type Problem } from './problem.ts';
export { decodeCursor, encodeCursor, membersPage, type MembersPage, type ScanStep } from './members-page.ts';
export { MAX_BATCH_REFS, MAX_MEMBERS_PAGE } from './schemas.ts';
export { startProfileApi, type RunningProfileApi } from './start.ts';
