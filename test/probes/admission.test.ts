import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { builtinRegistries } from '../../src/cli/registries.js';
import { dryRunCreate, DryRunUnanswered } from '../../src/cluster/dry-run-create.js';
import { SpecError } from '../../src/core/errors.js';
import { admitsProbe, deniesProbe } from '../../src/probes/admission/probe.js';
import { loadExperimentFile, loadExperimentText } from '../../src/spec/load.js';
import { startApi, type ApiHarness } from '../sim/api/api-harness.js';
import { startProbe } from './probe-harness.js';

/**
 * admits()/denies(): the manifest's object goes to the API server in a dry-run create, so the
 * server's own admission decides (here the embedded cluster's Pod Security), with its message.
 */

const SHIPPED = path.resolve('experiments/security');

/** A directory holding `files` (relative path → text). */
function dirWith(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gameday-admission-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const podIn = (namespace: string, name: string): string => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  containers:\n    - { name: c, image: busybox:1.36, securityContext: { privileged: true } }\n`;

describe('admits() and denies(): a dry-run create judged by the API server', function () {
  let h: ApiHarness;
  before(async () => {
    h = await startApi();
    const core = h.kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'checkout', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
    await core.createNamespace({ body: { metadata: { name: 'open' } } });
  });
  after(() => h?.stop());

  async function firstSample(probe: typeof admitsProbe, target: string, experimentDir = SHIPPED) {
    const p = await startProbe(probe, { target }, h.kc, { experimentDir });
    await p.stop();
    expect(p.failures).to.deep.equal([]);
    return p.samples[0]!;
  }

  it("denies() of the shipped privileged pod is true, with the server's refusal (Pod Security, restricted) as the sample's message; nothing is stored", async () => {
    const s = await firstSample(deniesProbe, 'pods/privileged.yaml');
    expect(s).to.deep.include({ ok: true, value: 1 });
    expect(s.detail).to.deep.include({ manifest: 'pods/privileged.yaml', admitted: false, code: 403, reason: 'Forbidden' });
    expect(s.detail!.message).to.equal(
      'pods/privileged.yaml: refused (403 Forbidden): pods "privileged" is forbidden: violates PodSecurity "restricted:latest": host namespaces (hostNetwork=true), ' +
        'privileged (container "shell" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "shell" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "shell" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "shell" must set securityContext.runAsNonRoot=true), ' +
        'runAsUser=0 (container "shell" must not set runAsUser=0), seccompProfile (pod or container "shell" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    expect(h.store.get('pods', 'checkout', 'privileged')).to.equal(undefined);
  });

  it('admits() of the shipped hardened pod is true and of the privileged one false; neither is stored', async () => {
    const compliant = await firstSample(admitsProbe, 'pods/compliant.yaml');
    expect(compliant).to.deep.include({ ok: true, value: 1 });
    expect(compliant.detail!.message).to.equal('pods/compliant.yaml: the API server admitted Pod checkout/compliant (dry run, nothing stored)');
    expect((await firstSample(admitsProbe, 'pods/privileged.yaml')).value).to.equal(0);
    expect(h.store.list('pods', 'checkout')).to.deep.equal([]);
  });

  it('in a namespace that enforces nothing, denies() of a privileged pod is false, and its message names the admitted manifest', async () => {
    const s = await firstSample(deniesProbe, 'priv.yaml', dirWith({ 'priv.yaml': podIn('open', 'root') }));
    expect(s).to.deep.include({ ok: true, value: 0 });
    expect(s.detail!.message).to.equal('priv.yaml: the API server admitted Pod open/root (dry run, nothing stored)');
  });

  it('a missing namespace or a taken name is no answer at all (a failed sample saying why), never a refusal that passes denies()', async () => {
    const missing = await firstSample(deniesProbe, 'p.yaml', dirWith({ 'p.yaml': podIn('nowhere', 'x') }));
    expect(missing).to.deep.include({ ok: false, error: 'dry-run-failed' });
    expect(missing.detail!.message).to.equal('p.yaml: the API server could not judge it (404): namespaces "nowhere" not found');
    await h.kc.makeApiClient(k8s.CoreV1Api).createNamespacedPod({ namespace: 'open', body: { metadata: { name: 'taken' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } });
    const taken = await firstSample(deniesProbe, 'p.yaml', dirWith({ 'p.yaml': podIn('open', 'taken') }));
    expect(taken).to.deep.include({ ok: false, error: 'dry-run-failed' });
    expect(taken.detail!.message).to.equal('p.yaml: the API server could not judge it (409): pods "taken" already exists');
  });

  it('sends a manifest written inline under a declared probe the same way, naming it by its object', async () => {
    const manifest = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host-pid', namespace: 'checkout' }, spec: { hostPID: true, containers: [{ name: 'c', image: 'busybox:1.36' }] } };
    const p = await startProbe(deniesProbe, { manifest }, h.kc);
    await p.stop();
    expect(p.samples[0]).to.deep.include({ ok: true, value: 1 });
    expect(p.samples[0]!.detail!.message).to.match(/^inline Pod checkout\/host-pid: refused \(403 Forbidden\): pods "host-pid" is forbidden: violates PodSecurity "restricted:latest": host namespaces \(hostPID=true\)/);
  });

  it('declares the create it does (in a dry run) for gameday rbac, from the manifest', () => {
    expect(deniesProbe.permissions!({ target: 'pods/privileged.yaml' }, SHIPPED)).to.deep.equal([
      { why: 'denies(pods/privileged.yaml): create its object in a dry run (nothing is stored)', verbs: ['create'], resource: 'pods', namespace: 'checkout' },
    ]);
  });
});

describe('admits() and denies(): which refusals judge the object', () => {
  /** An API server that answers every create with this Status, as upstream words it. */
  async function answering(code: number, message: string): Promise<{ kc: k8s.KubeConfig; close: () => void }> {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/api/v1') && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', namespaced: true, kind: 'Pod', verbs: ['create'] }] }));
        return;
      }
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'Forbidden', code }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
    return { kc, close: () => server.close() };
  }
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'checkout' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

  it("a namespace too new for its default service account (upstream's ServiceAccount admission) and gameday's own lack of create are no answer, never a refusal", async () => {
    for (const message of [
      'pods "p" is forbidden: error looking up service account checkout/default: serviceaccount "default" not found',
      'pods is forbidden: User "system:serviceaccount:gameday:gameday" cannot create resource "pods" in API group "" in the namespace "checkout"',
    ]) {
      const server = await answering(403, message);
      try {
        const err = await dryRunCreate(server.kc, pod).then(() => undefined, (e: unknown) => e);
        expect(err, message).to.be.instanceOf(DryRunUnanswered);
        expect((err as DryRunUnanswered).message).to.equal(message);
      } finally {
        server.close();
      }
    }
  });

  it('a webhook that denies (400) is a refusal, with its words', async () => {
    const server = await answering(400, 'admission webhook "validate.kyverno.svc-fail" denied the request: privileged containers are not allowed');
    try {
      expect(await dryRunCreate(server.kc, pod)).to.deep.include({ admitted: false, code: 400, message: 'admission webhook "validate.kyverno.svc-fail" denied the request: privileged containers are not allowed' });
    } finally {
      server.close();
    }
  });
});

describe('admits() and denies(): the manifest is checked when the experiment loads', () => {
  const experiment = (checks: readonly string[]): string =>
    ['apiVersion: gameday/v1', 'kind: Experiment', 'metadata: { name: admission }', 'spec:', '  duration: 3s', '  slos:', ...checks.map((c) => `    - ${c}`), ''].join('\n');

  function problems(files: Readonly<Record<string, string>>, checks: readonly string[]): string[] {
    const dir = dirWith(files);
    const file = path.join(dir, 'experiment.yaml');
    try {
      loadExperimentText(experiment(checks), file, builtinRegistries());
    } catch (err) {
      if (err instanceof SpecError) return err.issues.map((i) => `${path.basename(i.file)}:${i.line}:${i.column} ${i.path}: ${i.message}`);
      throw err;
    }
    return [];
  }

  it('names the experiment line of the check, then the manifest file, line and field that is wrong', () => {
    const found = problems(
      {
        'pods/two.yaml': podIn('open', 'a') + '---\n' + podIn('open', 'b'),
        'pods/nameless.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: open\nspec: {}\n',
        'pods/numbers.yaml': 'apiVersion: v1\nkind: 7\nmetadata:\n  name: x\n  namespace: [a]\n',
        'pods/broken.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: { name: x\n',
      },
      ['denies(pods/gone.yaml) == true', 'denies(pods/two.yaml) == true', 'admits(pods/nameless.yaml) == true', 'admits(pods/numbers.yaml) == true', 'denies(pods/broken.yaml) == true'],
    );
    expect(found).to.deep.equal([
      'experiment.yaml:7:14 spec.slos[0]: denies(pods/gone.yaml): no such file: pods/gone.yaml (manifest paths are relative to the experiment file)',
      'experiment.yaml:8:14 spec.slos[1]: denies(pods/two.yaml): pods/two.yaml:9:1: a manifest for admits()/denies() holds one object, but this is a second YAML document; put each object in its own file',
      'experiment.yaml:9:14 spec.slos[2]: admits(pods/nameless.yaml): pods/nameless.yaml:4:3 metadata.name: required: name the object (or give metadata.generateName)',
      'experiment.yaml:10:14 spec.slos[3]: admits(pods/numbers.yaml): pods/numbers.yaml:2:7 kind: must be a string, like kind: Pod',
      'experiment.yaml:10:14 spec.slos[3]: admits(pods/numbers.yaml): pods/numbers.yaml:5:14 metadata.namespace: must be a non-empty string',
      'experiment.yaml:11:14 spec.slos[4]: denies(pods/broken.yaml): pods/broken.yaml:4:1: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('reads an inline manifest (or a file) from the probe a check names, which must be declared, of the same kind, with a named object', () => {
    const withProbes = (probes: string, check: string): string[] => {
      const dir = dirWith({});
      const text = ['apiVersion: gameday/v1', 'kind: Experiment', 'metadata: { name: admission }', 'spec:', '  duration: 3s', '  probes:', probes, '  slos:', `    - ${check}`, ''].join('\n');
      try {
        loadExperimentText(text, path.join(dir, 'experiment.yaml'), builtinRegistries());
        return [];
      } catch (err) {
        if (err instanceof SpecError) return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
        throw err;
      }
    };
    const root = '    root:\n      denies:\n        manifest: { apiVersion: v1, kind: Pod, metadata: { name: root, namespace: open }, spec: {} }';
    expect(withProbes(root, 'denies(root) == true')).to.deep.equal([]);
    expect(withProbes(root, 'admits(root) == true')).to.deep.equal([
      '11:14 spec.slos[0]: admits(root) reads a probe of kind admits declared under spec.probes, and "root" is a denies probe; declare it with its manifest inline, or name a manifest file like pods/compliant.yaml',
    ]);
    expect(withProbes(root, 'denies(rooted) == true')[0]).to.equal(
      '11:14 spec.slos[0]: denies(rooted) reads a probe of kind denies declared under spec.probes, and no probe is named "rooted"; declare it with its manifest inline, or name a manifest file like pods/privileged.yaml',
    );
    expect(withProbes('    gone:\n      denies: { target: pods/gone.yaml }', 'denies(gone) == true')).to.deep.equal([
      '8:25 spec.probes.gone.denies.target: no such file: pods/gone.yaml (manifest paths are relative to the experiment file)',
    ]);
    const nameless = '    root:\n      denies:\n        manifest: { apiVersion: v1, kind: Pod, metadata: { namespace: open } }';
    expect(withProbes(nameless, 'denies(root) == true')).to.deep.equal(['9:58 spec.probes.root.denies.manifest.metadata: name the object (metadata.name, or metadata.generateName)']);
  });

  it('refuses a target that is not a manifest path, and loads the shipped experiment', async () => {
    expect(problems({}, ['denies(pods/privileged) == true'])).to.deep.equal([
      'experiment.yaml:7:7 spec.slos[0]: denies needs a target written as a manifest file relative to the experiment (.yaml, .yml or .json), like pods/privileged.yaml, or the name of a denies probe declared under spec.probes with its manifest inline; "pods/privileged" is not',
    ]);
    const spec = await loadExperimentFile(path.join(SHIPPED, 'admission-refuses-privileged.yaml'), builtinRegistries());
    expect(spec.slos.map((c) => c.expr.text)).to.deep.equal(['denies(pods/privileged.yaml) == true', 'denies(host-pid) == true', 'admits(pods/compliant.yaml) == true']);
  });
});
