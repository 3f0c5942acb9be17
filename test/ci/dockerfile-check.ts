import { DockerfileParser, ModifiableInstruction, type Instruction } from 'dockerfile-ast';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One FROM and the instructions under it. */
export interface Stage {
  readonly name: string | undefined;
  readonly line: number;
  readonly instructions: readonly Instruction[];
}

export function stages(dockerfile: string): Stage[] {
  const found: { name: string | undefined; line: number; instructions: Instruction[] }[] = [];
  for (const instruction of DockerfileParser.parse(dockerfile).getInstructions()) {
    const line = instruction.getRange().start.line + 1;
    if (instruction.getKeyword() === 'FROM') {
      const stageName = /\bAS\s+(\S+)\s*$/i.exec(instruction.getArgumentsContent() ?? '')?.[1];
      found.push({ name: stageName, line, instructions: [] });
    }
    found.at(-1)?.instructions.push(instruction);
  }
  return found;
}

/** The words of an instruction: its JSON array when written as one, else its arguments (COPY's flags left out). */
export function words(instruction: Instruction): string[] {
  const content = instruction.getArgumentsContent() ?? '';
  return /^\s*\[/.test(content) ? (JSON.parse(content) as string[]) : instruction.getArguments().map((a) => a.getValue());
}

function flag(instruction: Instruction, name: string): string | undefined {
  if (!(instruction instanceof ModifiableInstruction)) return undefined;
  return instruction.getFlags().find((f) => f.getName() === name)?.getValue() ?? undefined;
}

/** Docker's .dockerignore rules: the last pattern that matches a path or one of its parents decides. */
function ignoredBy(dockerignore: string): (file: string) => boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const glob = path.posix.normalize(l.slice(negated ? 1 : 0).replace(/^\/+/, '')).replace(/\/$/, '');
      const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\0/g, '.*');
      return { negated, pattern: new RegExp(`^${source}$`) };
    });
  return (file) => {
    const parts = path.posix.normalize(file).replace(/\/$/, '').split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.pattern.test(p))) ignored = !rule.negated;
    return ignored;
  };
}

/** Files of the build context a COPY source names (a trailing `*` or `?` is matched in its folder). */
function matches(context: string, source: string): string[] {
  if (!/[*?]/.test(source)) return existsSync(path.join(context, source)) ? [source] : [];
  const dir = path.posix.dirname(source);
  const pattern = new RegExp(`^${path.posix.basename(source).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const folder = path.join(context, dir);
  return existsSync(folder) ? readdirSync(folder).filter((f) => pattern.test(f)).map((f) => path.posix.join(dir, f)) : [];
}

/**
 * What would break `docker build` or make the image unfit to run gameday in a cluster, one
 * message per problem (`Dockerfile:LINE what`), empty when nothing is: a COPY of a file that is not
 * in the build context (or that .dockerignore leaves out), a `--from` naming no earlier stage, a
 * final stage that runs as root or as a user a pod's `runAsNonRoot` cannot verify.
 */
export function dockerfileProblems(dockerfile: string, context: string): string[] {
  const all = stages(dockerfile);
  const dockerignore = path.join(context, '.dockerignore');
  const ignored = ignoredBy(existsSync(dockerignore) ? readFileSync(dockerignore, 'utf8') : '');
  const problems: string[] = [];
  all.forEach((stage, index) => {
    const earlier = all.slice(0, index).map((s) => s.name);
    for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD')) {
      const at = `Dockerfile:${copy.getRange().start.line + 1}`;
      const from = flag(copy, 'from');
      if (from !== undefined) {
        if (!earlier.includes(from) && !/^\d+$/.test(from)) problems.push(`${at} --from=${from} names no earlier stage (${earlier.join(', ') || 'none'})`);
        continue;
      }
      for (const source of words(copy).slice(0, -1)) {
        const files = matches(context, source);
        if (files.length === 0) problems.push(`${at} copies ${source}, which is not in the build context`);
        else if (files.every((f) => ignored(f))) problems.push(`${at} copies ${source}, which .dockerignore leaves out of the build context`);
      }
    }
  });
  const final = all.at(-1);
  const user = final?.instructions.filter((i) => i.getKeyword() === 'USER').at(-1);
  const uid = user ? words(user)[0]!.split(':')[0]! : undefined;
  if (!final) problems.push('Dockerfile has no FROM');
  else if (!user) problems.push(`Dockerfile:${final.line} the final stage runs as root: add USER with a numeric uid`);
  else if (uid === '0' || uid === 'root') problems.push(`Dockerfile:${user.getRange().start.line + 1} the final stage runs as root`);
  else if (!/^\d+$/.test(uid!)) problems.push(`Dockerfile:${user.getRange().start.line + 1} USER ${uid} is a name: a pod's runAsNonRoot can verify only a numeric uid`);
  return problems;
}
