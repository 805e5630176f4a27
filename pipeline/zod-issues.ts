import type { z } from 'zod';

/**
 * The one formatter for validation errors (config files, REST bodies, registry entries): each zod issue becomes
 * `<field path>: <message>`, the path written as in the YAML or JSON it came from (`streams[2].url`), so the user
 * sees exactly which field is wrong.
 */

export interface FieldProblem {
  /** `a.b[2].c`, or the caller's name for the whole document when the issue is about the root. */
  path: string;
  message: string;
}

/** `a.b[2].c` for a zod issue path. */
export function formatIssuePath(issuePath: readonly PropertyKey[]): string {
  return issuePath
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/** One entry per issue; `root` names the whole document ('(root)', '(body)', '(stream)'). */
export function describeZodIssues(error: z.ZodError, root = '(root)'): FieldProblem[] {
  return error.issues.map((issue) => {
    // Unknown keys are named in the message by zod itself; any it leaves out are added, so none goes unnamed.
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? issue.keys.map(String).filter((key) => !issue.message.includes(key)) : [];
    return { path: formatIssuePath(issue.path) || root, message: keys.length > 0 ? `${issue.message} (${keys.join(', ')})` : issue.message };
  });
}

/** `path: message` lines. */
export function formatZodIssues(error: z.ZodError, root = '(root)'): string[] {
  return describeZodIssues(error, root).map(({ path, message }) => `${path}: ${message}`);
}
