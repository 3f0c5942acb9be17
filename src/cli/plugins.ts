import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, errorMessage } from '../core/errors.js';
import type { SpecRegistries } from '../spec/registries.js';

/** What a `--plugin` module exports: a function that registers its faults and probes. */
export interface PluginModule {
  register(registries: SpecRegistries): void | Promise<void>;
}

let typeScriptLoaderRegistered = false;

/**
 * Loads user plug-in modules (`--plugin ./my-faults.ts`). TypeScript modules are loaded through
 * tsx, the same way browser journeys and k6 scripts are, so users need no build step.
 */
export async function loadPlugins(modules: readonly string[], registries: SpecRegistries): Promise<void> {
  for (const spec of modules) {
    const file = path.resolve(spec);
    if (!existsSync(file)) throw new UsageError(`--plugin ${spec}: no such file`);
    if (/\.[mc]?tsx?$/.test(file)) await registerTypeScriptLoader();
    let mod: Partial<PluginModule>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Partial<PluginModule>;
    } catch (err) {
      throw new UsageError(`--plugin ${spec}: cannot load it: ${errorMessage(err)}`);
    }
    if (typeof mod.register !== 'function') throw new UsageError(`--plugin ${spec}: it must export a function register(registries)`);
    await mod.register(registries);
  }
}

export async function registerTypeScriptLoader(): Promise<void> {
  if (typeScriptLoaderRegistered) return;
  const { register } = await import('tsx/esm/api');
  register();
  typeScriptLoaderRegistered = true;
}
