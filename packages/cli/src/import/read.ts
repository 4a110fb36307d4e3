/**
 * Streams the records of a CSV (RFC 4180) or whitespace-separated file, plain or gzip (by its magic bytes), with
 * their line numbers; never holds the file in memory. A CSV record that cannot be parsed (an unclosed quote) is handed
 * on as `malformed` with its line and the parser's message, and reading goes on.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';

export type FileRecord = { line: number; fields: string[] } | { line: number; malformed: string };

export interface RecordSource {
  records: AsyncIterable<FileRecord>;
  /** Bytes of the file (compressed, when gzip) read so far, and in all: for the progress bar. */
  bytesRead(): number;
  size: number;
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

export async function openRecords(file: string, format: 'csv' | 'whitespace'): Promise<RecordSource> {
  const raw = createReadStream(file);
  const { size } = await stat(file);
  const text: Readable = (await isGzip(file)) ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (err) => text.destroy(err));
  return { records: format === 'csv' ? csvRecords(text) : whitespaceRecords(text), bytesRead: () => raw.bytesRead, size };
}

async function* csvRecords(text: Readable): AsyncIterable<FileRecord> {
  // relax_quotes: a stray quote inside a field is text (as spreadsheets read it); an unclosed quote is the error left
  const parser = parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, skip_records_with_error: true, info: true });
  // the parser runs ahead of this loop: a skip is placed after the records parsed before it
  const skipped: { after: number; message: string }[] = [];
  parser.on('skip', (err: Error) => skipped.push({ after: parser.info.records, message: err.message }));
  text.pipe(parser);
  text.on('error', (err) => parser.destroy(err));
  let records = 0;
  let last = 0;
  // a skipped record starts on the line after the previous record (the parser's message says where it ended)
  const before = function* (n: number): Generator<FileRecord> {
    while (skipped.length && (skipped[0]?.after ?? 0) < n) yield { line: last + 1, malformed: (skipped.shift() as { message: string }).message };
  };
  for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield* before(++records);
    last = r.info.lines;
    yield { line: last, fields: r.record };
  }
  yield* before(Number.POSITIVE_INFINITY);
}

async function* whitespaceRecords(text: Readable): AsyncIterable<FileRecord> {
  let line = 0;
  for await (const l of createInterface({ input: text, crlfDelay: Infinity })) {
    line++;
    const t = l.trim();
    if (t !== '') yield { line, fields: t.split(/\s+/) };
  }
}
