/** What a drill step did, for the journal; a step that could not do its job throws StepFailed. */
export interface StepResult {
  readonly message: string;
  readonly evidence?: unknown;
}

/** A step that could not do its job: the run ends with `outcome` (a wait that never came true: failed; anything else: error). */
export class StepFailed extends Error {
  constructor(
    message: string,
    readonly outcome: 'failed' | 'error',
    readonly evidence?: unknown,
  ) {
    super(message);
  }
}
