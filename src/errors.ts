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
