export { INPUTS, loadStitcherConfig, STITCHER_SETTINGS, type StitcherConfig, type InputTopicId } from './config.ts';
export { startStitcher, type RunningStitcher } from './build-service.ts';
export { createRedis } from '@profile-stream/profile';
export { stitcherHandler } from './handler.ts';
export { profileChangeRecords, type ChangeInput, type OutRecord } from './steps/publish.ts';
