/**
 * Typed errors. Library code throws these; only the CLI entry (src/cli/main.ts) turns them into
 * exit codes, via EXIT_CODES below. Each error carries a one-line message that names the file,
 * row or column, and a hint that says what to do.
 */

export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  data: 3,
  drift: 4,
  /** An API call of `mlops apicalls` did not return 200. */
  apicall: 5,
  /** Stopped by SIGINT/SIGTERM (128 + 2, the shell convention). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

export class MlopsError extends Error {
  readonly exitCode: ExitCode = EXIT_CODES.internal;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, a bad config.json, a missing folder: exit 2. */
export class ConfigError extends MlopsError {
  override readonly exitCode = EXIT_CODES.usage;
}

/** Bad input data (CSV files, missing columns, non-numeric values): exit 3. */
export class DataError extends MlopsError {
  override readonly exitCode = EXIT_CODES.data;
}

/** A model file that is missing, corrupt or does not fit the data: exit 3. */
export class ModelError extends MlopsError {
  override readonly exitCode = EXIT_CODES.data;
}

/** A step that cannot be done in the current state (e.g. deploy before score): exit 2. */
export class StateError extends MlopsError {
  override readonly exitCode = EXIT_CODES.usage;
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof MlopsError ? err.exitCode : EXIT_CODES.internal;
}

/**
 * A user-supplied value for an error message: JSON-quoted, cut to about `max` characters so a
 * 2 MB value still gives a one-line message. quote("abc") === '"abc"'.
 */
export function quote(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

/** Up to `max` values, each quote()d, then "and N more": quoteList(["a", "b", "c"], 2) === '"a", "b" and 1 more'. */
export function quoteList(values: readonly unknown[], max = 5): string {
  const shown = values.slice(0, max).map((v) => quote(v)).join(', ');
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}
