import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ResultBuilder } from '../../src/report/result.js';
import { renderSummary } from '../../src/report/summary.js';
import { PlanError } from '../../src/core/errors.js';
import { formatPlan } from '../../src/plan/format.js';
import { planExperiment } from '../../src/plan/plan.js';
import { runNeeds } from '../../src/engine/permissions.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import type { RunEvent } from '../../src/journal/events.js';
import { loadExperimentText } from '../../src/spec/load.js';
import { runNodeFaultExperiment, simTarget } from '../faults/node-fault-experiment.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { specError } from '../spec/spec-error.js';

type StepEvent = Extract<RunEvent, { type: 'step' }>;

const withSteps = (steps: string): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill }
spec:
  duration: 10s
  steps:
${steps}`;

describe('drill steps', () => {
  describe('in the experiment file', () => {
    it('names each bad step by its place in the file: no kind, two kinds, a bad name, a namespaced kind without its namespace', () => {
      const message = specError(
        withSteps(`    - { at: 1s, name: nothing }
    - { at: 1s, name: both, scale: { kind: Deployment, namespace: shop, name: web, replicas: 1 }, delete: { kind: Pod, namespace: shop, name: web-0 } }
    - { at: 1s, name: 2nd, delete: { kind: Namespace, name: shop } }
    - { at: 1s, name: nothing, delete: { kind: Pod, name: web-0 } }
    - { at: 20s, name: late, waitFor: { check: "ready(deployment/shop/web) >= 1", timeout: 5s } }
`),
      );
      expect(message).to.contain('drill.yaml:7:7 spec.steps[0]: a step does one thing: give one of exec, command, scale, rolloutRestart, apply, delete, waitFor');
      expect(message).to.contain('drill.yaml:8:7 spec.steps[1]: a step does one thing, not scale and delete: split it into steps');
      expect(message).to.match(/drill\.yaml:9:\d+ spec\.steps\[2\]\.name: "2nd" cannot name a step/);
      expect(message).to.match(/drill\.yaml:10:\d+ spec\.steps\[3\]\.delete\.namespace: a Pod is namespaced: give its namespace/);
    });

    it('checks names and times once the file parses', () => {
      const message = specError(
        withSteps(`    - { at: 1s, name: restore, scale: { kind: Deployment, namespace: shop, name: web, replicas: 1 } }
    - { at: 1s, name: restore, delete: { kind: Pod, namespace: shop, name: web-0 } }
    - { at: 20s, name: late, waitFor: { check: "availability(nope) >= 1%", timeout: 5s } }
  slos:
    - rto(late, restore) < 1m
    - rto(restore, gone) < 1m
`),
      );
      expect(message).to.match(/drill\.yaml:8:\d+ spec\.steps\[1\]\.name: the step name "restore" is already used by spec\.steps\[0\]/);
      expect(message).to.match(/drill\.yaml:9:\d+ spec\.steps\[2\]\.at: starts at 20s, but the run ends at 10s/);
      expect(message).to.match(/spec\.steps\[2\]\.waitFor\.check: no probe named "nope"/);
      expect(message).to.match(/drill\.yaml:11:\d+ spec\.slos\[0\]: rto\(late, restore\) measures from late to a later step, and restore does not come after late in spec\.steps/);
      expect(message).to.match(/drill\.yaml:12:\d+ spec\.slos\[1\]: rto\(\) names "gone", which no step is called; the steps are restore, restore, late/);
    });

    it('refuses an apply whose file does not exist, naming the step', () => {
      const message = specError(withSteps(`    - { at: 1s, name: restore, apply: { file: workloads/nowhere.yaml } }
`));
      expect(message).to.match(/drill\.yaml:7:\d+ spec\.steps\[0\]\.apply\.file: no such file: .*workloads\/nowhere\.yaml \(apply files are relative to the experiment file\)/);
    });
  });

  describe('in the plan', () => {
    const drill = (blastRadius: string): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill }
spec:
  duration: 10s${blastRadius}
  steps:
    - { at: 1s, name: backup, exec: { pod: { namespace: shop, labels: { app: db } }, command: [sh, -c, "cp /data/db /backup/"] } }
    - { at: 2s, name: disaster, delete: { kind: PersistentVolumeClaim, namespace: shop, name: data-db-0 } }
    - { at: 2s, name: back, waitFor: { check: "ready(statefulset/shop/db) >= 3", timeout: 1m } }
`;
    const plan = (yaml: string) => {
      const registries = builtinRegistries();
      const spec = loadExperimentText(yaml, 'drill.yaml', registries);
      return planExperiment(spec, { takenAt: 0, nodes: [], pods: [] }, { seed: 1, cluster: { kind: 'embedded', name: 'test' }, faults: registries.faults, probes: registries.probes });
    };

    it('refuses a delete outside spec.blastRadius.allowDeleteIn, naming the step and the fix', () => {
      let message = '';
      try {
        plan(drill('\n  blastRadius: { allowDeleteIn: [staging] }'));
      } catch (err) {
        expect(err).to.be.instanceOf(PlanError);
        message = (err as Error).message;
      }
      expect(message).to.equal(
        'drill.yaml:9:7 spec.steps[1]: step disaster deletes PersistentVolumeClaim shop/data-db-0, in namespace shop, which the blast radius does not allow deletes in. ' +
          'To allow it, add shop to spec.blastRadius.allowDeleteIn (now staging)',
      );
    });

    it('asks RBAC for what the steps do: list and exec in the pod\'s namespace, delete and get the claim', async () => {
      const registries = builtinRegistries();
      const needs = await runNeeds([loadExperimentText(drill('\n  blastRadius: { allowDeleteIn: [shop] }'), 'drill.yaml', registries)], { registries, nodeAccess: 'none' });
      const steps = needs.permissions.filter((p) => p.why.startsWith('step '));
      expect(steps.map((p) => `${p.why}: ${p.verbs.join(',')} ${p.resource} in ${p.namespace}`)).to.deep.equal([
        'step backup (exec): list pods in shop',
        'step backup (exec): get,create pods/exec in shop',
        'step disaster (delete): delete,get persistentvolumeclaims in shop',
      ]);
    });

    it('asks RBAC for what an apply step does with the objects of its file, including creating a Namespace a disaster deleted', async () => {
      const manifests = path.join(mkdtempSync(path.join(tmpdir(), 'gameday-apply-rbac-')), 'restored.yaml');
      writeFileSync(manifests, 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: shop }\n');
      const registries = builtinRegistries();
      const spec = loadExperimentText(withSteps(`    - { at: 1s, name: rebuild, apply: { file: ${JSON.stringify(manifests)} } }\n`), 'drill.yaml', registries);
      const needs = await runNeeds([spec], { registries, nodeAccess: 'none' });
      expect(needs.permissions.filter((p) => p.why.startsWith('step ')).map((p) => `${p.verbs.join(',')} ${p.resource}${p.names ? ` ${p.names.join(',')}` : ''}${p.namespace ? ` in ${p.namespace}` : ''}`)).to.deep.equal([
        'get namespaces shop',
        'create configmaps in shop',
        'get,update,delete configmaps settings in shop',
        'create namespaces',
      ]);
    });

    it('shows the steps in the timeline, in file order, with what each will do', () => {
      const text = formatPlan(plan(drill('\n  blastRadius: { allowDeleteIn: [shop] }')));
      const lines = text.split('\n');
      const header = lines.findIndex((l) => l.includes('STEP'));
      expect(lines.slice(header, header + 4).map((l) => l.trim().split(/\s{2,}/))).to.deep.equal([
        ['AT', 'STEP', 'KIND', 'ACTION (once, not reverted)'],
        ['1s', 'backup (s0)', 'exec', 'exec in shop/app=db: sh -c cp /data/db /backup/'],
        ['2s', 'disaster (s1)', 'delete', 'delete PersistentVolumeClaim shop/data-db-0'],
        ['2s', 'back (s2)', 'waitFor', 'wait up to 1m for ready(statefulset/shop/db) >= 3'],
      ]);
    });
  });

  describe('on the embedded cluster', function () {
    this.timeout(60_000);
    let sim: SimClients;
    before(async () => {
      sim = await startSim();
      await sim.core.createNamespace({ body: { metadata: { name: 'drill' } } });
      await sim.apps.createNamespacedDeployment({
        namespace: 'drill',
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] }] } },
          },
        },
      });
      await sim.core.createNamespacedPersistentVolumeClaim({ namespace: 'drill', body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    });
    after(() => sim?.cluster.stop());

    it('runs exec → delete → command → scale → rolloutRestart → waitFor once each, in order, keeping the exec output and the check that came true, and times rto(disaster, back)', async () => {
      const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill }
spec:
  duration: 1s
  blastRadius: { allowDeleteIn: [drill] }
  steadyState:
    checks: [ "ready(deployment/drill/web) >= 1" ]
  steps:
    - { at: 0s, name: backup, exec: { pod: { namespace: drill, labels: { app: web } }, command: [sh, -c, "echo saved > /tmp/backup && cat /tmp/backup"] } }
    - { at: 0s, name: disaster, delete: { kind: PersistentVolumeClaim, namespace: drill, name: data } }
    - { at: 0s, name: note, command: { run: [node, -e, "console.log(require('fs').existsSync('experiment.yaml'))"] } }
    - { at: 0s, name: restore, scale: { kind: Deployment, namespace: drill, name: web, replicas: 3 } }
    - { at: 0s, name: restart, rolloutRestart: { kind: Deployment, namespace: drill, name: web } }
    - { at: 0s, name: back, waitFor: { check: "ready(deployment/drill/web) >= 3", timeout: 20s } }
  slos:
    - rto(disaster, back) < 20s
`);
      expect(run.summary.outcome, run.summary.reason).to.equal('passed');
      const steps = run.events.filter((e): e is StepEvent => e.type === 'step');
      expect(steps.map((e) => `${e.name} ${e.phase}`)).to.deep.equal([
        'backup start', 'backup done', 'disaster start', 'disaster done', 'note start', 'note done', 'restore start', 'restore done', 'restart start', 'restart done', 'back start', 'back done',
      ]);
      const backup = steps.find((e) => e.name === 'backup' && e.phase === 'done')!;
      expect(backup.evidence).to.deep.include({ exitCode: 0, stdout: 'saved\n' });
      expect(steps.find((e) => e.name === 'note' && e.phase === 'done')!.evidence, 'run here, in the experiment file\'s folder').to.deep.include({ exitCode: 0, stdout: 'true' });
      expect(steps.find((e) => e.name === 'disaster' && e.phase === 'done')!.message).to.equal('PersistentVolumeClaim drill/data deleted and gone');
      expect(steps.find((e) => e.name === 'back' && e.phase === 'done')!.message).to.match(/^ready\(deployment\/drill\/web\) >= 3 true after \d+ ms/);
      // RTO runs from the disaster's start to the end of the waitFor that saw the service back.
      const rto = run.events.find((e): e is Extract<RunEvent, { type: 'sample' }> => e.type === 'sample' && e.probe === 'rto(disaster, back)')!;
      const start = steps.find((e) => e.name === 'disaster' && e.phase === 'start')!.t;
      const end = steps.find((e) => e.name === 'back' && e.phase === 'done')!.t;
      expect(rto).to.deep.include({ t: end, value: end - start, detail: { from: 'disaster', to: 'back' } });
      const slo = run.events.find((e): e is Extract<RunEvent, { type: 'check' }> => e.type === 'check' && e.check === 'rto(disaster, back) < 20s')!;
      expect(slo.verdict).to.equal('passed');
      expect(slo.value).to.equal(end - start);
      // The report keeps each step with its outcome and evidence, and result.json stays schema-valid.
      const builder = new ResultBuilder();
      for (const e of run.events) builder.add(e);
      const result = builder.result();
      const validate = new Ajv2020({ allErrors: true, strict: true });
      addFormats.default(validate);
      const check = validate.compile(JSON.parse(readFileSync('src/report/result.schema.json', 'utf8')) as object);
      expect(check(result), validate.errorsText(check.errors)).to.equal(true);
      expect(result.steps!.map((r) => `${r.name} ${r.outcome}`)).to.deep.equal(['backup done', 'disaster done', 'note done', 'restore done', 'restart done', 'back done']);
      expect(renderSummary(result, { files: [], link: false })).to.contain('| disaster (s1) | delete |');
      const claims = (await sim.core.listNamespacedPersistentVolumeClaim({ namespace: 'drill' })).items;
      expect(claims.map((c) => c.metadata!.name)).to.deep.equal([]);
      const web = await sim.apps.readNamespacedDeployment({ name: 'web', namespace: 'drill' });
      expect(web.status?.readyReplicas).to.equal(3);
      const restartedAt = (steps.find((e) => e.name === 'restart' && e.phase === 'done')!.evidence as { restartedAt: string }).restartedAt;
      expect(web.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], 'the template kubectl rollout restart patches').to.equal(restartedAt);
    });

    it('apply creates the objects of its file and replaces what exists, keeping an existing Namespace, as kubectl apply does', async () => {
      await sim.core.createNamespacedConfigMap({ namespace: 'drill', body: { metadata: { name: 'settings' }, data: { mode: 'old' } } });
      const manifests = path.join(mkdtempSync(path.join(tmpdir(), 'gameday-apply-')), 'restored.yaml');
      writeFileSync(manifests, `apiVersion: v1
kind: Namespace
metadata: { name: drill }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: drill }
data: { mode: restored }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: extra, namespace: drill }
data: { added: "yes" }
`);
      const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill-apply }
spec:
  duration: 1s
  steps:
    - { at: 0s, name: restore, apply: { file: ${JSON.stringify(manifests)} } }
`);
      expect(run.summary.outcome, run.summary.reason).to.equal('passed');
      const done = run.events.find((e): e is StepEvent => e.type === 'step' && e.phase === 'done')!;
      expect(done.message).to.equal(`${manifests}: 3 objects applied`);
      expect((done.evidence as { objects: string[] }).objects).to.deep.equal(['Namespace drill unchanged (exists)', 'ConfigMap drill/settings replaced', 'ConfigMap drill/extra created']);
      expect((await sim.core.readNamespacedConfigMap({ namespace: 'drill', name: 'settings' })).data).to.deep.equal({ mode: 'restored' });
      expect((await sim.core.readNamespacedConfigMap({ namespace: 'drill', name: 'extra' })).data).to.deep.equal({ added: 'yes' });
    });

    it('fails the run at a waitFor that never comes true, and runs nothing after it', async () => {
      const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill-never }
spec:
  duration: 1s
  steps:
    - { at: 0s, name: never, waitFor: { check: "ready(deployment/drill/web) >= 9", timeout: 1s } }
    - { at: 0s, name: after, scale: { kind: Deployment, namespace: drill, name: web, replicas: 1 } }
`);
      expect(run.summary.outcome).to.equal('failed');
      expect(run.summary.reason).to.match(/^step never \(waitFor\) failed: ready\(deployment\/drill\/web\) >= 9 not true within 1s/);
      const steps = run.events.filter((e): e is StepEvent => e.type === 'step');
      expect(steps.map((e) => `${e.name} ${e.phase}`)).to.deep.equal(['never start', 'never failed']);
    });
  });
});
