#!/usr/bin/env node
/** `npm run docs:config`: regenerate the README's configuration tables from the settings declarations (settings-table.test.ts checks them). */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from '@profile-stream/consumer-kit';
import { withSettingsTables } from './settings-table.ts';

const file = resolve(REPO_ROOT, 'README.md');
const readme = readFileSync(file, 'utf8');
const next = withSettingsTables(readme);
if (next !== readme) writeFileSync(file, next);
process.stdout.write(next === readme ? 'README.md: configuration tables already current\n' : 'README.md: configuration tables updated\n');
