export { loadStitcherConfig, DEFAULT_OPS_PORTS, type StitcherConfig, type InputTopicId } from './config.ts';
export { startStitcher, type RunningStitcher } from './build-service.ts';
export { createRedis } from '@profile-stream/profile';
export { stitcherHandler } from './handler.ts';
