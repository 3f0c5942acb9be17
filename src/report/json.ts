import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';

/** Writes `<runDir>/result.json`, the machine-readable result (schema: result.schema.json). */
export class JsonReporter implements Reporter {
  readonly name = 'json';
  readonly outputs = ['result.json'];

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    await mkdir(run.runDir, { recursive: true });
    await writeFile(join(run.runDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  }
}
