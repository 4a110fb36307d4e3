/**
 * `--mapping file.yaml`: the import's settings in a small YAML file instead of (or under) command-line options. Keys:
 *   preset        online-retail | cdnow: start from it (--preset on the command line wins)
 *   map           field: column (the fields of --map; a column by name, or by 1-based position without a header)
 *   format, header, date_format, timezone, currency, user_prefix, cancel_prefix, zero_price, source
 * The same checks as the options apply afterwards (importSettings); an unknown key or field is refused here, naming it.
 * Order of precedence: preset < file < command line (--map entries replace the file's one by one).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { errorMessage, ProfileStreamError } from '@profile-stream/contracts';
import { type ColumnMap, MAPPED_FIELDS, type MappedField } from './mapping.ts';

/** The import settings a mapping file and the command's options share (ImportOptions adds the command's own). */
export interface MappingSettings {
  preset?: string;
  format?: string;
  header?: boolean;
  dateFormat?: string;
  timezone?: string;
  currency?: string;
  userPrefix?: string;
  cancelPrefix?: string;
  zeroPrice?: string;
  source?: string;
}

/** The options a mapping file can set (the ImportOptions names, map already parsed). */
export interface MappingFile extends MappingSettings {
  map?: ColumnMap;
}

const KEYS: Record<string, Exclude<keyof MappingFile, 'map' | 'header'>> = {
  preset: 'preset',
  format: 'format',
  date_format: 'dateFormat',
  timezone: 'timezone',
  currency: 'currency',
  user_prefix: 'userPrefix',
  cancel_prefix: 'cancelPrefix',
  zero_price: 'zeroPrice',
  source: 'source',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks a mapping file's shape (values are checked by importSettings, like the options'). */
export function parseMappingFile(path: string, text: string): MappingFile {
  const invalid = (message: string) => new ProfileStreamError('invalid_options', `--mapping ${path}: ${message}`);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalid(`not YAML (${errorMessage(err)})`);
  }
  if (!isObject(doc)) throw invalid('expected a mapping of settings (map:, date_format:, ...)');
  const out: MappingFile = {};
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'map') {
      if (!isObject(value)) throw invalid('map: expected field: column pairs');
      const map: ColumnMap = {};
      for (const [field, column] of Object.entries(value)) {
        if (!(MAPPED_FIELDS as readonly string[]).includes(field))
          throw invalid(`map: unknown field ${JSON.stringify(field)} (fields: ${MAPPED_FIELDS.join(', ')})`);
        if (!((typeof column === 'string' && column.trim() !== '') || (typeof column === 'number' && Number.isInteger(column) && column > 0)))
          throw invalid(`map.${field}: expected a column name or a 1-based position (got ${JSON.stringify(column)})`);
        map[field as MappedField] = String(column).trim();
      }
      out.map = map;
    } else if (key === 'header') {
      if (typeof value !== 'boolean') throw invalid(`header: expected true or false (got ${JSON.stringify(value)})`);
      out.header = value;
    } else {
      const option = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
      if (option === undefined) throw invalid(`unknown key ${JSON.stringify(key)} (keys: map, header, ${Object.keys(KEYS).join(', ')})`);
      if (typeof value !== 'string') throw invalid(`${key}: expected text (got ${JSON.stringify(value)})`);
      out[option] = value;
    }
  }
  return out;
}

export function readMappingFile(path: string): MappingFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileStreamError('invalid_options', `--mapping ${path}: cannot read it (${errorMessage(err)})`, { cause: err });
  }
  return parseMappingFile(path, text);
}
