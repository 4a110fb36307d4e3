export * from './errors.ts';
export * from './config.ts';
export * from './connections.ts';
export * from './logger.ts';
export * from './kafka.ts';
