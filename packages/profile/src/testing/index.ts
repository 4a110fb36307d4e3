/** Test support of the profile package (`@profile-stream/profile/testing`): oracles, invariants, gates. */
export { oracleProfiles, type OracleProfile, type OracleRecord } from './oracle.ts';
export { snapshot, violations, type IdentitySnapshot } from './invariants.ts';
export { Crash, Gates, prng, Scheduler, type Pause } from './gates.ts';
export {
  checkConvergence,
  convergenceErrors,
  fragmentOf,
  oracleCustomers,
  stitchItem,
  type Convergence,
  type ExpectedCustomer,
  type OracleCustomer,
  type TestEvent,
} from './identity-world.ts';
export { countWrites } from './redis-writes.ts';
