import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

export interface UplotAssets {
  readonly script: string;
  readonly style: string;
}

let cached: Promise<UplotAssets> | undefined;

/**
 * uPlot's browser build and stylesheet, read from node_modules once per process and inlined into
 * every report: the report must open offline and from a CI artifact, so nothing may come from a CDN.
 */
export function uplotAssets(): Promise<UplotAssets> {
  cached ??= (async () => {
    const require = createRequire(import.meta.url);
    const [script, style] = await Promise.all([
      readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    ]);
    return { script, style };
  })();
  return cached;
}
