import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes `text` to `file` so that a reader never sees it half written: to a temporary file beside
 * it, then renamed over it. Scripts poll for a kubeconfig to appear and read it at once; with a
 * plain write they could find the file there but still without its `server:` line.
 */
export async function writeFileWhole(file: string, text: string, mode: number): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, text, { mode });
  await rename(partial, file);
}
