import { execa } from 'execa';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * `npm run bench [name…]`: every benchmark in its own process (so memory figures are its own),
 * one after another (so they do not compete for the two cores), then a summary of every
 * reports/bench/*.json. Names: sim, drain, control-plane, http-probe, report, validate, api-faults, crash, soak, openapi (default: all that exist).
 */
const BENCHES: Readonly<Record<string, readonly (readonly string[])[]>> = {
  // Both sizes in one entry, so the JSON has the 25k/5k ratio.
  sim: [['test/bench/sim-bench.ts', '100:5000', '500:25000']],
  drain: [['test/bench/drain-bench.ts'], ['test/bench/drain-bench.ts', '2', 'real']],
  'control-plane': [['test/bench/control-plane-bench.ts']],
  'http-probe': [['test/bench/http-probe-bench.ts']],
  report: [['test/bench/report-bench.ts']],
  validate: [['test/bench/validate-bench.ts']],
  'api-faults': [['test/bench/api-fault-bench.ts']],
  crash: [['test/bench/crash-bench.ts', '60']],
  soak: [['test/bench/soak-bench.ts', '30m']],
  openapi: [['test/bench/openapi-bench.ts']],
};

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHES);
const unknown = wanted.filter((w) => !(w in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}

const outDir = path.resolve('reports/bench');
await mkdir(outDir, { recursive: true });
const failed: string[] = [];
for (const name of wanted) {
  for (const [file, ...args] of BENCHES[name]!) {
    try {
      await readFile(file!);
    } catch {
      console.log(`- ${name}: ${file} is not there yet, skipped`);
      continue;
    }
    console.log(`- ${name}: ${[file, ...args].join(' ')}`);
    const r = await execa(process.execPath, ['--import', 'tsx', '--expose-gc', file!, ...args], { stdio: 'inherit', reject: false });
    if (r.exitCode !== 0) failed.push(`${name} (${file} exit ${r.exitCode})`);
  }
}

const summary: Record<string, unknown> = {};
for (const f of (await readdir(outDir)).filter((f) => f.endsWith('.json') && f !== 'summary.json').sort()) {
  summary[f.replace(/\.json$/, '')] = JSON.parse(await readFile(path.join(outDir, f), 'utf8'));
}
await writeFile(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
console.log(`results: ${path.relative(process.cwd(), outDir)}/*.json (summary.json has them all)`);
if (failed.length > 0) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
