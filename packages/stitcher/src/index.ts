export { loadStitcherConfig, DEFAULT_OPS_PORTS, type StitcherConfig, type InputTopicId } from './config.ts';
export { startStitcher, createRedis, type RunningStitcher } from './build-service.ts';
export { stitcherHandler } from './handler.ts';
export { runStitcherMain } from './main.ts';
