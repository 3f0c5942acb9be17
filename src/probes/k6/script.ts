import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * A k6 script (TypeScript or JavaScript, typed by @types/k6) bundled into one ES module: k6
 * before v0.57 cannot run TypeScript by itself, and a Job's ConfigMap holds one file, so local
 * imports are inlined. `k6` and its modules, and remote modules, stay imports for k6 to resolve.
 * esbuild is a dependency of gameday (tsx uses it too).
 */
export async function bundleK6Script(file: string): Promise<string> {
  if (!existsSync(file)) throw new Error(`k6 script ${file} does not exist`);
  const { build } = await import('esbuild');
  let result;
  try {
    result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2020',
      external: ['k6', 'k6/*', 'https://*', 'http://*'],
      logLevel: 'silent',
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    // esbuild names files relative to the working directory; an absolute path reads the same from anywhere.
    const lines = errors.map((e) => (e.location ? `${path.resolve(e.location.file)}:${e.location.line}:${e.location.column} ${e.text}` : e.text));
    throw new Error(`cannot bundle k6 script ${file}:\n${lines.join('\n') || String(err)}`);
  }
  return result.outputFiles[0]!.text;
}
