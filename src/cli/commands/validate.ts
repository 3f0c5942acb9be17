import { SpecError } from '../../core/errors.js';
import { loadExperiments } from '../../spec/load.js';
import { builtinRegistries } from '../registries.js';
import { loadPlugins } from '../plugins.js';

export interface ValidateOptions {
  readonly json?: boolean;
  readonly plugin?: readonly string[];
}

/** `gameday validate <files|dirs>…`: every problem of every file, then exit 0 or 2. */
export async function validateCommand(paths: readonly string[], options: ValidateOptions): Promise<number> {
  const registries = builtinRegistries();
  await loadPlugins(options.plugin ?? [], registries);
  const { files, specs, issues } = await loadExperiments(paths, registries);
  if (options.json) {
    process.stdout.write(
      JSON.stringify({ valid: issues.length === 0, files, experiments: specs.map((s) => ({ file: s.file, name: s.name })), issues }, null, 2) + '\n',
    );
    return issues.length === 0 ? 0 : 2;
  }
  for (const spec of specs) process.stdout.write(`ok   ${spec.file} (${spec.name})\n`);
  if (issues.length > 0) throw new SpecError(issues);
  process.stdout.write(`${specs.length} experiment${specs.length === 1 ? '' : 's'} valid.\n`);
  return 0;
}
