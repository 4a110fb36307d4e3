#!/usr/bin/env node
// The profile API process (`profile-stream run profile-api`): profiles over HTTP with API keys, on PROFILE_API_PORT.
import { runService } from '@profile-stream/consumer-kit/entry';

await runService('profile-api', async () => {
  const { loadProfileApiConfig, startProfileApi } = await import('@profile-stream/api');
  return startProfileApi(loadProfileApiConfig(process.env));
});
