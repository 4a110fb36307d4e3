/**
 * npm run codegen         — regenerate packages/contracts/src/generated/ from schemas/
 * npm run codegen:check   — regenerate in memory; exit 1 naming stale files (CI drift check)
 * Flags --schemas <dir> and --out <dir> override the folders (used by tests).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { render } from './render.ts';
import type { SchemaFile, TopicEntry } from './render.ts';

export interface CodegenPaths {
  schemasDir: string;
  outDir: string;
}

export const DEFAULT_PATHS: CodegenPaths = {
  schemasDir: resolve(import.meta.dirname, '../../../schemas'),
  outDir: resolve(import.meta.dirname, '../src/generated'),
};

/** Reads schemas/*.avsc and schemas/topics.json and renders the generated files (file name → content). */
export function generate(schemasDir: string): Map<string, string> {
  const schemas: SchemaFile[] = readdirSync(schemasDir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((file) => ({ file, json: readJson(join(schemasDir, file)) }));
  const manifest = readJson(join(schemasDir, 'topics.json')) as { topics: TopicEntry[] };
  return render(schemas, manifest.topics);
}

/** Names of files in outDir that differ from, are missing from, or are extra to the generated set. */
export function staleFiles(generated: Map<string, string>, outDir: string): string[] {
  const existing = listTs(outDir);
  const stale: string[] = [];
  for (const [file, content] of generated) {
    const current = existing.includes(file) ? readFileSync(join(outDir, file), 'utf8') : undefined;
    if (current !== content) stale.push(file);
  }
  for (const file of existing) if (!generated.has(file)) stale.push(file);
  return stale.sort();
}

export function write(generated: Map<string, string>, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const stale = staleFiles(generated, outDir);
  for (const file of listTs(outDir)) if (!generated.has(file)) rmSync(join(outDir, file));
  for (const [file, content] of generated) if (stale.includes(file)) writeFileSync(join(outDir, file), content);
  return stale;
}

function listTs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { check: { type: 'boolean', default: false }, schemas: { type: 'string' }, out: { type: 'string' } },
  });
  const schemasDir = resolve(values.schemas ?? DEFAULT_PATHS.schemasDir);
  const outDir = resolve(values.out ?? DEFAULT_PATHS.outDir);
  const generated = generate(schemasDir);
  if (values.check) {
    const stale = staleFiles(generated, outDir);
    if (stale.length === 0) return 0;
    process.stderr.write(`generated code is stale (run npm run codegen): ${stale.map((f) => join(outDir, f)).join(', ')}\n`);
    return 1;
  }
  const changed = write(generated, outDir);
  process.stdout.write(changed.length === 0 ? 'generated code is up to date\n' : `wrote ${changed.join(', ')}\n`);
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`codegen failed: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
