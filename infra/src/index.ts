export { createStack, stackUp, stackDown, stackStatus, type Stack, type UpResult, type PartStatus, type PartState } from './stack.ts';
export { KAFKA_VERSION, serverProperties } from './kafka.ts';
export { REGISTRY_MODULE, REGISTRY_VERSION } from './registry.ts';
export { livePid, portOpen, waitFor, sleep } from './proc.ts';
export {
  formatRetention,
  loadTopicPolicy,
  provision,
  topicNames,
  topicRetention,
  topicSpecs,
  TOPIC_POLICY_SETTINGS,
  type ProvisionResult,
  type TopicPolicy,
  type TopicRetention,
} from './provision.ts';
export { cleanScratch, SCRATCH_PREFIXES, type CleanResult } from './clean.ts';
export { chromiumVersion, ensureChromium, launchChromium, type Browser, type BrowserContext, type Page } from './chromium.ts';
