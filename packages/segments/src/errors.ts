/**
 * Errors of the segments package: ProfileStreamError (contracts) with the one code `invalid_definition`, never
 * retriable (a definition is wrong until someone edits it), and every problem found (`issues`) so a loader reports all
 * at once. What the code means: the README's "Error codes".
 */
import { ProfileStreamError } from '@profile-stream/contracts/errors';

export type SegmentErrorCode = 'invalid_definition';

/** One problem in one file: `path` is the dotted path inside the document ('' for the whole file). */
export interface DefinitionIssue {
  file: string;
  path: string;
  message: string;
}

export class SegmentDefinitionError extends ProfileStreamError<SegmentErrorCode> {
  readonly file: string;
  readonly path: string;
  /** Every problem found (the first is also this error's file/path/message): a loader reports all at once. */
  readonly issues: readonly DefinitionIssue[];

  constructor(issues: readonly DefinitionIssue[], init: { cause?: unknown } = {}) {
    const first = issues[0] ?? { file: '', path: '', message: 'invalid definition' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map(format).join('; ')})` : '';
    super('invalid_definition', `${format(first)}${more}`, init);
    this.name = 'SegmentDefinitionError';
    this.file = first.file;
    this.path = first.path;
    this.issues = issues;
  }
}

function format(i: DefinitionIssue): string {
  return `${i.file}${i.path ? ` at ${i.path}` : ''}: ${i.message}`;
}

export function isSegmentDefinitionError(err: unknown): err is SegmentDefinitionError {
  return err instanceof SegmentDefinitionError;
}
