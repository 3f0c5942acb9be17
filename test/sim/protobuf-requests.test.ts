import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectlBinary } from '../support/kubectl.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * kubectl ≥ 1.32 sends the built-in kinds its typed commands make (`create`, `autoscale`,
 * `auth can-i`, `create token`…) as protobuf. Each command runs once through kubectl 1.31, which
 * sends JSON, and once through each protobuf-sending kubectl, into a namespace of its own; the
 * objects must come out the same.
 */
const JSON_KUBECTL = '1.31';
const PROTOBUF_KUBECTLS = ['1.32', '1.33'];

/** The typed commands, in a namespace `ns`; every one of them must succeed. */
const commands = (ns: string): string[][] => [
  ['create', 'namespace', ns],
  ['-n', ns, 'create', 'quota', 'compute', '--hard=pods=10,requests.cpu=4,requests.memory=1Gi'],
  ['-n', ns, 'create', 'deployment', 'web', '--image=gameday/web:1', '--replicas=2', '--port=8080'],
  ['-n', ns, 'create', 'service', 'nodeport', 'np', '--tcp=5678:8080'],
  ['-n', ns, 'create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=50%'],
  ['-n', ns, 'create', 'secret', 'generic', 's', '--from-literal=a=b', '--from-literal=utf8=grüße'],
  ['-n', ns, 'create', 'configmap', 'cm', '--from-literal=x=y'],
  ['-n', ns, 'create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--', 'sh', '-c', 'exit 0'],
  ['-n', ns, 'create', 'job', 'tick-manual', '--from=cronjob/tick'],
  ['-n', ns, 'autoscale', 'deployment', 'web', '--min=1', '--max=3', '--cpu-percent=50'],
  ['-n', ns, 'create', 'serviceaccount', 'sa'],
  ['-n', ns, 'create', 'rolebinding', 'rb', '--clusterrole=view', `--serviceaccount=${ns}:sa`],
  ['-n', ns, 'create', 'ingress', 'simple', '--rule=foo.com/bar=svc1:8080'],
];
const OBJECTS = ['namespace', 'resourcequota/compute', 'deployment/web', 'service/np', 'poddisruptionbudget/web', 'secret/s', 'configmap/cm', 'cronjob/tick', 'job/tick-manual', 'hpa/web', 'serviceaccount/sa', 'rolebinding/rb', 'ingress/simple'];

/** What differs between two creations of the same object: ids, times, versions, status, and its namespace's name. */
function normalised(object: unknown, ns: string): unknown {
  const DROP = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation', 'status', 'ownerReferences', 'clusterIP', 'clusterIPs', 'nodePort']);
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => !DROP.has(key) && !key.endsWith('controller-uid'))
          .map(([key, v]) => [key, walk(v)]),
      );
    }
    return typeof value === 'string' ? value.replaceAll(ns, 'NS') : value;
  };
  return walk(object);
}

describe('protobuf request bodies from kubectl ≥ 1.32 against the embedded cluster', function () {
  this.timeout(120_000);
  let sim: SimClients;
  let dir: string;
  const bin = (version: string): string | undefined => {
    const path = kubectlBinary(version);
    return path && existsSync(path) ? path : undefined;
  };
  const run = (version: string, args: string[], reject = true) =>
    execa(bin(version)!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, `cache-${version}`), HOME: dir }, reject, timeout: 30_000 });
  const get = async (version: string, ns: string, object: string): Promise<unknown> =>
    normalised(JSON.parse((await run(version, object === 'namespace' ? ['get', 'namespace', ns, '-o', 'json'] : ['-n', ns, 'get', object, '-o', 'json'])).stdout), ns);

  before(async function () {
    if (!bin(JSON_KUBECTL) || PROTOBUF_KUBECTLS.some((v) => !bin(v))) this.skip();
    sim = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gameday-protobuf-'));
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    for (const args of commands('via-json')) await run(JSON_KUBECTL, args);
  });
  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const version of PROTOBUF_KUBECTLS) {
    it(`kubectl ${version}: typed create commands send protobuf and make the objects kubectl ${JSON_KUBECTL}'s JSON makes`, async () => {
      const ns = `via-protobuf-${version.replace('.', '-')}`;
      const [first, ...rest] = commands(ns);
      const verbose = await run(version, [...first!, '-v=8']);
      expect(verbose.stderr, 'kubectl sent its namespace as protobuf').to.match(/Content-Type: application\/vnd\.kubernetes\.protobuf/);
      for (const args of rest) await run(version, args);
      for (const object of OBJECTS) expect(await get(version, ns, object), object).to.deep.equal(await get(version, 'via-json', object));
      const secret = JSON.parse((await run(version, ['-n', ns, 'get', 'secret', 's', '-o', 'json'])).stdout) as { data: Record<string, string> };
      expect(Buffer.from(secret.data.utf8!, 'base64').toString('utf8')).to.equal('grüße');
    });

    it(`kubectl ${version}: auth can-i, auth whoami and create token, whose reviews and requests go as protobuf`, async () => {
      const ns = 'via-json';
      const as = `--as=system:serviceaccount:${ns}:sa`;
      expect((await run(version, ['-n', ns, 'auth', 'can-i', 'list', 'pods', as])).stdout).to.equal('yes');
      const denied = await run(version, ['-n', ns, 'auth', 'can-i', 'delete', 'pods', as], false);
      expect([denied.exitCode, denied.stdout]).to.deep.equal([1, 'no']);
      const whoami = JSON.parse((await run(version, ['auth', 'whoami', '-o', 'json', as])).stdout) as { status: { userInfo: { username: string } } };
      expect(whoami.status.userInfo.username).to.equal(`system:serviceaccount:${ns}:sa`);
      const token = (await run(version, ['-n', ns, 'create', 'token', 'sa', '--duration=10m'])).stdout;
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; iat: number; sub: string };
      expect([claims.sub, claims.exp - claims.iat]).to.deep.equal([`system:serviceaccount:${ns}:sa`, 600]);
    });
  }
});
