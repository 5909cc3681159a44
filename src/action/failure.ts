/** Values of the `failure-reason` output. */
export type FailureReason =
  | 'plan-changed'
  | 'apply-failed'
  | 'no-pull-request'
  | 'no-reviewed-plan'
  | 'permission-denied'
  | 'comment-too-long'
  | 'rate-limited'
  | 'bad-credentials'
  | 'not-found'
  | 'github-error'
  | 'no-token'
  | 'invalid-input'
  | 'not-available'
  | 'error';

/** A failure the action reports as its `failure-reason` output, with what to do about it. */
export class ActionFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly fix?: string,
  ) {
    super(message);
    this.name = 'ActionFailure';
  }

  describe(): string {
    return this.fix ? `${this.message}. Fix: ${this.fix}` : this.message;
  }
}
