import { parse, stringify } from 'yaml';

/** The parts of a composite action's action.yml that these checks read. */
export interface CompositeAction {
  readonly name?: unknown;
  readonly description?: unknown;
  readonly inputs?: Record<string, { readonly description?: string; readonly default?: string }>;
  readonly outputs?: Record<string, { readonly description?: string; readonly value?: unknown }>;
  readonly runs?: { readonly using?: unknown; readonly steps?: readonly Record<string, unknown>[] };
}

const EXPRESSION = /\$\{\{(.*?)\}\}/gs;

/** The names after `context.` in every `${{ … }}` of the text. */
function referenced(text: string, context: string): string[] {
  const names = new RegExp(`\\b${context}\\.([A-Za-z_][A-Za-z0-9_-]*)`, 'g');
  return [...text.matchAll(EXPRESSION)].flatMap((m) => [...m[1]!.matchAll(names)].map((n) => n[1]!));
}

/**
 * What is wrong with a composite action's metadata, one message per problem, empty when nothing
 * is. actionlint checks the metadata of the actions a workflow uses but not a composite action's
 * steps, so these are the rules GitHub applies when it loads one: the required keys, a `shell` on
 * every `run` step, inputs and step ids that exist wherever an expression names them.
 */
export function compositeActionProblems(text: string): string[] {
  const action = parse(text) as CompositeAction | null;
  if (!action || typeof action !== 'object') return ['the file is not a YAML mapping'];
  const problems: string[] = [];
  for (const key of ['name', 'description'] as const) {
    if (typeof action[key] !== 'string' || !action[key]) problems.push(`${key}: required, a non-empty string`);
  }
  if (!action.inputs || typeof action.inputs !== 'object') problems.push('inputs: required, a mapping of input names');
  if (action.runs?.using !== 'composite') problems.push(`runs.using: is ${JSON.stringify(action.runs?.using)}, must be composite`);
  const steps = action.runs?.steps ?? [];
  if (steps.length === 0) problems.push('runs.steps: a composite action needs at least one step');
  steps.forEach((step, i) => {
    if ('run' in step && !step.shell) problems.push(`runs.steps[${i}]: runs a script without shell: (composite steps have no default shell)`);
    if (!('run' in step) && !('uses' in step)) problems.push(`runs.steps[${i}]: needs run: or uses:`);
  });
  const inputs = new Set(Object.keys(action.inputs ?? {}));
  for (const name of new Set(referenced(text, 'inputs'))) {
    if (!inputs.has(name)) problems.push(`inputs.${name}: used in an expression but not declared under inputs:`);
  }
  const ids = new Set(steps.map((s) => s.id).filter((id): id is string => typeof id === 'string'));
  for (const id of new Set(referenced(text, 'steps'))) {
    if (!ids.has(id)) problems.push(`steps.${id}: used in an expression but no step has id: ${id}`);
  }
  for (const [name, output] of Object.entries(action.outputs ?? {})) {
    if (typeof output?.value !== 'string') problems.push(`outputs.${name}.value: required in a composite action`);
  }
  return problems;
}

/**
 * The action's steps as a reusable workflow whose `workflow_call` inputs are the action's inputs,
 * so actionlint checks them as it checks any job: expressions and their types, the inputs of the
 * actions they use, and each script through shellcheck.
 */
export function stepsAsWorkflow(action: CompositeAction): string {
  const inputs = Object.fromEntries(Object.keys(action.inputs ?? {}).map((name) => [name, { type: 'string', required: false }]));
  return stringify({ on: { workflow_call: { inputs } }, jobs: { action: { 'runs-on': 'ubuntu-24.04', steps: action.runs?.steps ?? [] } } });
}
