import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { startEmbeddedCluster } from '../../src/sim/index.js';

/**
 * What `/openapi/v2` costs the embedded cluster: CPU (server and client together, in this one
 * process) of the first JSON request (the document is built then), the first protobuf request
 * (encoded then), a cached protobuf request with and without gzip (median of 21), and the first
 * protobuf request after a CRD is established (JSON and protobuf built again); and the sizes. Cluster start-up does not build it.
 * Writes reports/bench/openapi.json.
 * Run: npx tsx test/bench/openapi-bench.ts
 */
const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const CRD = new URL('../fixtures/crds/k6.io_testruns.yaml', import.meta.url);

const cpuMs = async (work: () => Promise<unknown>): Promise<number> => {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / 100) / 10;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cluster = await startEmbeddedCluster({});
try {
  const url = new URL('/openapi/v2', cluster.url);
  const get = async (headers: Record<string, string>) => Buffer.from(await (await fetch(url, { headers })).arrayBuffer());
  const plain = { 'accept-encoding': 'identity' };
  let json = Buffer.alloc(0);
  let proto = Buffer.alloc(0);
  const firstJsonCpuMs = await cpuMs(async () => (json = await get({ ...plain, accept: 'application/json' })));
  const firstProtobufCpuMs = await cpuMs(async () => (proto = await get({ ...plain, accept: PROTOBUF })));
  const cached = async (headers: Record<string, string>) => {
    const samples: number[] = [];
    for (let i = 0; i < 21; i++) samples.push(await cpuMs(() => get(headers)));
    return median(samples);
  };
  const cachedProtobufCpuMs = await cached({ ...plain, accept: PROTOBUF });
  const gzipped = (await fetch(url, { headers: { accept: PROTOBUF, 'accept-encoding': 'gzip' } })).headers.get('content-length');
  const cachedGzipProtobufCpuMs = await cached({ accept: PROTOBUF, 'accept-encoding': 'gzip' });

  const crd = parse(await readFile(CRD, 'utf8')) as object;
  const created = await fetch(new URL('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', cluster.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(crd) });
  if (created.status !== 201) throw new Error(`creating the TestRun CRD: HTTP ${created.status} ${await created.text()}`);
  const served = new URL('/apis/k6.io/v1alpha1', cluster.url);
  for (let i = 0; i < 100 && (await fetch(served)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  let withCrd = Buffer.alloc(0);
  const rebuildAfterCrdCpuMs = await cpuMs(async () => (withCrd = await get({ ...plain, accept: PROTOBUF })));
  if (withCrd.length <= proto.length) throw new Error('the document did not grow with the TestRun CRD');

  const result = {
    firstJsonCpuMs,
    firstProtobufCpuMs,
    cachedProtobufCpuMs,
    cachedGzipProtobufCpuMs,
    rebuildAfterCrdCpuMs,
    jsonBytes: json.length,
    protobufBytes: proto.length,
    gzipProtobufBytes: Number(gzipped),
  };
  console.log(result);
  await mkdir('reports/bench', { recursive: true });
  await writeFile('reports/bench/openapi.json', JSON.stringify(result, null, 2) + '\n');
} finally {
  await cluster.stop();
}
