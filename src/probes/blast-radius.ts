import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { ACCESS_REVIEW_PERMISSION, reviewAccess } from '../cluster/access-review.js';
import { rawRequest } from '../cluster/raw-request.js';
import type { Permission } from '../cluster/rbac.js';
import { parseAccessTarget } from '../core/access-target.js';
import type { BlastRadiusAction, BlastRadiusCounts, BlastRadiusMap } from '../core/blast-radius.js';
import { Duration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { podExecPermissions } from '../nodes/pod-exec.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { ProbePlugin } from './probe.js';
import { tryPath } from './shared/connect-from-pod.js';
import { sampleOnChange, type Observation } from './shared/sample-on-change.js';
import { namespacedNameSchema, parseNamespacedName } from './shared/target-ref.js';

const params = z.strictObject({
  target: namespacedNameSchema.describe('the compromised app: namespace/app, the pods labelled app=<app>, like shop/frontend'),
  every: positiveDurationSchema.optional().describe('how often to map it again. @default 10s'),
  timeout: positiveDurationSchema.optional().describe('how long a connection may take before it counts as denied (whole seconds, as nc -w takes them). @default 1s'),
});
type Params = z.output<typeof params>;

/** What the account is asked about in each namespace, and the verbs that would allow it (the first allowed is kept). */
const ACTIONS: readonly { readonly key: BlastRadiusAction; readonly verbs: readonly string[]; readonly resource: string }[] = [
  { key: 'readSecrets', verbs: ['get', 'list', 'watch'], resource: 'secrets' },
  { key: 'createPods', verbs: ['create'], resource: 'pods' },
  { key: 'exec', verbs: ['create'], resource: 'pods/exec' },
];
type NamespaceAccess = BlastRadiusMap['access'][number];

/** How many connections are tried at once from the pod. */
const CONNECT_CONCURRENCY = 8;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The compromised-pod drill: gameday takes the place of one running pod of the app, its network
 * position and its service account, and maps what an attacker there could reach and do. Reach:
 * a TCP connection from inside the pod (`nc -z` through pods/exec, so NetworkPolicy decides) to
 * every port of every Service in the cluster. Do: a SubjectAccessReview for the account in every
 * namespace (read Secrets, create pods, exec into pods), and the account's own rules review (every
 * API verb it is allowed there), so nothing is tried and no secret value is ever read. A sample whenever the map changes, with its counts in `detail.fields`
 * (`blastRadius(shop/frontend).secrets == 0`) and the whole map as its detail.
 */
export const blastRadiusProbe: ProbePlugin<Params> = {
  kind: 'blastRadius',
  summary: "what an attacker in one of an app's pods could reach (Services, namespaces) and do with its service account, at every change",
  params,

  permissions(p) {
    const { namespace } = parseNamespacedName(p.target);
    const why = `blastRadius(${p.target})`;
    return [
      { why: `${why}: list the app's pods, to take one's place`, verbs: ['list'], resource: 'pods', namespace },
      ...podExecPermissions(`${why}: try connections from inside the pod (nc -z)`, namespace),
      { why: `${why}: list the Services it might reach`, verbs: ['list'], resource: 'services' },
      { why: `${why}: list the namespaces its account is asked about`, verbs: ['list'], resource: 'namespaces' },
      ACCESS_REVIEW_PERMISSION,
      { why: `${why}: list every API verb its account is allowed (a rules review made as the account)`, verbs: ['impersonate'], resource: 'serviceaccounts', namespace },
      { why: `${why}: list every API verb its account is allowed`, verbs: ['create'], resource: 'selfsubjectrulesreviews', group: 'authorization.k8s.io' },
    ] satisfies Permission[];
  },

  async start(ctx, p) {
    const { namespace, name: app } = parseNamespacedName(p.target);
    const waitS = Math.max(1, Math.ceil((p.timeout ?? Duration.seconds(1)).ms / 1000));
    const kubeConfig = ctx.cluster.kubeConfig;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    return sampleOnChange(ctx, (p.every ?? Duration.seconds(10)).ms, async () => {
      try {
        return await mapBlastRadius(kubeConfig, core, namespace, app, waitS);
      } catch (err) {
        return { ok: false, error: 'map-failed', detail: { message: errorMessage(err).slice(0, 300) } };
      }
    });
  },
};

async function mapBlastRadius(kubeConfig: KubeConfig, core: CoreV1Api, namespace: string, app: string, waitS: number): Promise<Observation> {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
    .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  const pod = pods[0];
  if (!pod) return { ok: false, error: 'no-source-pods', detail: { message: `no running pod in namespace ${namespace} is labelled app=${app}` } };
  const account = pod.spec?.serviceAccountName ?? 'default';
  const [reached, access] = await Promise.all([reachableServices(kubeConfig, core, pod, waitS), accountAccess(kubeConfig, core, namespace, account)]);
  const servicesReached = [...new Set(reached.map((r) => r.service))];
  const namespacesReached = [...new Set(reached.map((r) => r.service.split('/')[0]!))];
  const where = (action: BlastRadiusAction): string[] => access.filter((a) => a.allowed[action] !== undefined).map((a) => a.namespace);
  const fields: BlastRadiusCounts = {
    services: servicesReached.length,
    namespaces: namespacesReached.length,
    secrets: where('readSecrets').length,
    createPods: where('createPods').length,
    exec: where('exec').length,
  };
  const listed = (names: readonly string[]): string => (names.length > 0 ? ` (${names.join(', ')})` : '');
  const message =
    `as ${namespace}/${pod.metadata!.name} (service account ${namespace}/${account}): ` +
    `reaches ${plural(fields.services, 'Service')}${listed(reached.map((r) => r.path))} in ${plural(fields.namespaces, 'namespace')}; ` +
    `may read Secrets in ${plural(fields.secrets, 'namespace')}${listed(where('readSecrets'))}, ` +
    `create pods in ${fields.createPods}${listed(where('createPods'))}, exec into pods in ${fields.exec}${listed(where('exec'))}`;
  const map: BlastRadiusMap = { pod: `${namespace}/${pod.metadata!.name}`, serviceAccount: `${namespace}/${account}`, fields, reached, access, message };
  return { ok: true, value: fields.services, detail: { ...map } };
}

/**
 * Services every pod is meant to reach: the API server (what it lets the pod do is the account's
 * part of the map) and cluster DNS. They are left out of the network part.
 */
const CLUSTER_INFRASTRUCTURE = new Set(['default/kubernetes', 'kube-system/kube-dns']);

/** Every port of every Service (ExternalName ones and the cluster's infrastructure aside), tried from inside the pod by the Service's DNS name. */
async function reachableServices(kubeConfig: KubeConfig, core: CoreV1Api, pod: V1Pod, waitS: number): Promise<{ service: string; path: string }[]> {
  const targets = (await core.listServiceForAllNamespaces()).items
    .filter((s) => s.spec?.type !== 'ExternalName' && !CLUSTER_INFRASTRUCTURE.has(`${s.metadata!.namespace}/${s.metadata!.name}`))
    .flatMap((s) => (s.spec?.ports ?? []).filter((port) => (port.protocol ?? 'TCP') === 'TCP').map((port) => ({ ns: s.metadata!.namespace!, name: s.metadata!.name!, port: port.port })))
    .sort((a, b) => `${a.ns}/${a.name}`.localeCompare(`${b.ns}/${b.name}`) || a.port - b.port);
  const reached: { service: string; path: string }[] = [];
  let tried = 0;
  for (let i = 0; i < targets.length; i += CONNECT_CONCURRENCY) {
    const batch = targets.slice(i, i + CONNECT_CONCURRENCY);
    const answers = await Promise.all(batch.map((d) => tryPath(kubeConfig, pod, `${d.name}.${d.ns}.svc.cluster.local`, d.port, waitS)));
    answers.forEach((a, j) => {
      const d = batch[j]!;
      if (a !== undefined) tried++;
      if (a?.reachable) reached.push({ service: `${d.ns}/${d.name}`, path: `${d.ns}/${d.name}:${d.port}` });
    });
  }
  // A pod where nc cannot run reaches nothing as far as gameday can tell: that is no map, never a small one.
  if (targets.length > 0 && tried === 0) throw new Error(`could not run nc in pod ${pod.metadata!.namespace}/${pod.metadata!.name} (the drill tries connections with nc -z, as busybox has it)`);
  return reached;
}

/** What every authenticated account may do (discovery, reviews of itself): not the compromised account's own power. */
const EVERYONE = new Set(['create selfsubjectaccessreviews.authorization.k8s.io', 'create selfsubjectreviews.authentication.k8s.io', 'create selfsubjectrulesreviews.authorization.k8s.io']);

/**
 * Every API verb the account is allowed in a namespace, as the authorizer lists them: a
 * SelfSubjectRulesReview made as the account (impersonating it, so nothing it could do is done).
 */
async function accountRules(kubeConfig: KubeConfig, namespace: string, account: string, scope: string): Promise<string[]> {
  const answer = await rawRequest(kubeConfig, '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    method: 'POST',
    body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: scope } }),
    headers: { 'impersonate-user': `system:serviceaccount:${namespace}:${account}` },
  });
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`the rules review as ${namespace}/${account} in ${scope} was answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  const rules = ((JSON.parse(answer.body) as { status?: { resourceRules?: { verbs: string[]; apiGroups?: string[]; resources?: string[] }[] } }).status?.resourceRules ?? []);
  const lines = rules.flatMap((r) => (r.resources ?? []).flatMap((res) => (r.apiGroups?.length ? r.apiGroups : ['']).map((g) => `${[...r.verbs].sort().join(',')} ${g ? `${res}.${g}` : res}`)));
  return [...new Set(lines)].filter((l) => !EVERYONE.has(l)).sort();
}

/** What the account may do in each namespace, asked of the authorizer (SubjectAccessReview and a rules review), never tried. */
async function accountAccess(kubeConfig: KubeConfig, core: CoreV1Api, namespace: string, account: string): Promise<NamespaceAccess[]> {
  const namespaces = (await core.listNamespace()).items.map((n) => n.metadata!.name!).sort();
  return Promise.all(
    namespaces.map(async (scope) => {
      const rules = await accountRules(kubeConfig, namespace, account, scope);
      const allowed: Partial<Record<BlastRadiusAction, string>> = {};
      for (const action of ACTIONS) {
        for (const verb of action.verbs) {
          const answer = await reviewAccess(kubeConfig, parseAccessTarget(`serviceaccount/${namespace}/${account}, ${verb}, ${action.resource}, ${scope}`));
          if (answer.allowed) {
            allowed[action.key] = verb;
            break;
          }
        }
      }
      return { namespace: scope, allowed, rules };
    }),
  );
}
