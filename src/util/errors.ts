// User-facing errors. Anything the user can fix (a config key, a data file, a flag, a checkpoint) is a
// VdsError whose message names the file, the key or field, and what was expected; the CLI prints it
// without a stack trace and exits non-zero. Anything else is a bug and keeps its stack.

export interface VdsErrorDetails {
  file?: string; // the file at fault, with :line when known
  key?: string; // dotted config key or field name
  hint?: string; // how to fix it, e.g. "run `vds data fetch mnist`"
  exitCode?: number; // default 2 (bad input)
}

/** Exit code of a command that could not start because something else holds what it needs (a run
 * directory in use): worth trying again later, unlike bad input (2). 75 is sysexits' EX_TEMPFAIL. */
export const EXIT_BUSY = 75;

export class VdsError extends Error {
  readonly file?: string;
  readonly key?: string;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(message: string, details: VdsErrorDetails = {}) {
    super(message);
    this.name = 'VdsError';
    this.file = details.file;
    this.key = details.key;
    this.hint = details.hint;
    this.exitCode = details.exitCode ?? 2;
  }

  /** One or two lines for the terminal: "file: key: message" then "hint". */
  format(): string {
    const where = [this.file, this.key].filter(Boolean).join(': ');
    const head = where ? `${where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}
