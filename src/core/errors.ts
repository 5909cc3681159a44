import type { SourceLocation } from './model.js';

/** An error a user can act on: it names the place and, where known, the fix. */
export class MetaformError extends Error {
  constructor(
    message: string,
    readonly location?: SourceLocation,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'MetaformError';
  }

  /** `file:line:col: message (hint)`, the form editors and CI annotations understand. */
  override toString(): string {
    const where = this.location ? `${formatLocation(this.location)}: ` : '';
    return `${where}${this.message}${this.hint ? `\n  hint: ${this.hint}` : ''}`;
  }
}

/** Several errors found in one pass (validation reports all of them, not just the first). */
export class MetaformErrors extends Error {
  constructor(readonly errors: MetaformError[]) {
    super(errors.map(String).join('\n'));
    this.name = 'MetaformErrors';
  }
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.col}`;
}

/** Collects errors and throws them together. */
export class ErrorList {
  readonly errors: MetaformError[] = [];
  add(message: string, location?: SourceLocation, hint?: string): void {
    this.errors.push(new MetaformError(message, location, hint));
  }
  throwIfAny(): void {
    if (this.errors.length === 1) throw this.errors[0];
    if (this.errors.length > 1) throw new MetaformErrors(this.errors);
  }
}
