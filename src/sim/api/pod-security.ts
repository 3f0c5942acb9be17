import type { LooseJson } from './loose-json.js';

/**
 * Pod Security admission (k8s.io/pod-security-admission) as the real API server runs it on pod
 * creation: the namespace's `pod-security.kubernetes.io/enforce` level refuses a pod, its `warn`
 * level answers with a warning. The checks are upstream's, in upstream's order, with their
 * reasons and details word for word. Not modelled: AppArmor, procMount, SELinux options, sysctls,
 * Windows host processes, version pinning (every version is evaluated as latest), exemptions,
 * updates, and the warnings upstream gives for workload templates.
 */
type Json = LooseJson;
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

interface Violation {
  readonly reason: string;
  readonly detail: string;
}

type Check = (spec: Json) => Violation | undefined;

const LABEL = 'pod-security.kubernetes.io';
const LEVELS: readonly PodSecurityLevel[] = ['privileged', 'baseline', 'restricted'];
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const joinQuote = (items: readonly string[]): string => (items.length ? `"${items.join('", "')}"` : '');
const pluralize = (singular: string, plural: string, n: number): string => (n === 1 ? singular : plural);
const containers = (names: readonly string[]): string => `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
const sorted = (set: Set<string>): string[] => [...set].sort();

/** Every container, init and ephemeral ones included, as upstream's visitContainers. */
function allContainers(spec: Json): Json[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])] as Json[];
}

const hostNamespaces: Check = (spec) => {
  const used = ['hostIPC', 'hostNetwork', 'hostPID'].filter((f) => spec[f] === true);
  return used.length ? { reason: 'host namespaces', detail: used.map((f) => `${f}=true`).join(', ') } : undefined;
};

const hostPorts: Check = (spec) => {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of allContainers(spec)) {
    const used = ((c.ports ?? []) as Json[]).filter((p) => p.hostPort);
    for (const p of used) ports.add(String(p.hostPort));
    if (used.length) bad.push(c.name);
  }
  if (!bad.length) return undefined;
  return { reason: 'hostPort', detail: `${containers(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sorted(ports).join(', ')}` };
};

const privileged: Check = (spec) => {
  const bad = allContainers(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name as string);
  return bad.length ? { reason: 'privileged', detail: `${containers(bad)} must not set securityContext.privileged=true` } : undefined;
};

const capabilitiesBaseline: Check = (spec) => {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const added = ((c.securityContext?.capabilities?.add ?? []) as string[]).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    for (const cap of added) caps.add(cap);
    if (added.length) bad.push(c.name);
  }
  return bad.length ? { reason: 'non-default capabilities', detail: `${containers(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add` } : undefined;
};

const hostPathVolumes: Check = (spec) => {
  const bad = ((spec.volumes ?? []) as Json[]).filter((v) => v.hostPath).map((v) => v.name as string);
  return bad.length ? { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : undefined;
};

const allowPrivilegeEscalation: Check = (spec) => {
  const bad = allContainers(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name as string);
  return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containers(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const capabilitiesRestricted: Check = (spec) => {
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const capabilities = c.securityContext?.capabilities;
    if (!capabilities) {
      missingDropAll.push(c.name);
      continue;
    }
    if (!((capabilities.drop ?? []) as string[]).includes('ALL')) missingDropAll.push(c.name);
    const added = ((capabilities.add ?? []) as string[]).filter((cap) => cap !== 'NET_BIND_SERVICE');
    for (const cap of added) caps.add(cap);
    if (added.length) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDropAll.length) details.push(`${containers(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${containers(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

const restrictedVolumes: Check = (spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of (spec.volumes ?? []) as Json[]) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type === undefined || RESTRICTED_VOLUME_TYPES.has(type)) continue;
    bad.push(v.name);
    types.add(type);
  }
  if (!bad.length) return undefined;
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote(sorted(types))}`,
  };
};

/** runAsNonRoot and seccompProfile share one shape: a pod-level setting each container may override. */
function podOrContainer(spec: Json, get: (securityContext: Json | undefined) => unknown, good: (value: unknown) => boolean): { badSetters: string[]; badValues: Set<string>; implicit: string[] } {
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podValue = get(spec.securityContext);
  let podGood = false;
  if (podValue !== undefined) {
    if (good(podValue)) podGood = true;
    else {
      badSetters.push('pod');
      badValues.add(String(podValue));
    }
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const value = get(c.securityContext);
    if (value !== undefined) {
      if (!good(value)) {
        explicit.push(c.name);
        badValues.add(String(value));
      }
    } else if (!podGood) {
      implicit.push(c.name);
    }
  }
  if (explicit.length) badSetters.push(containers(explicit));
  return { badSetters, badValues, implicit };
}

const runAsNonRoot: Check = (spec) => {
  const { badSetters, implicit } = podOrContainer(spec, (sc) => sc?.runAsNonRoot, (v) => v === true);
  if (badSetters.length) return { reason: 'runAsNonRoot != true', detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containers(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

const runAsUser: Check = (spec) => {
  const badSetters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) badSetters.push('pod');
  const bad = allContainers(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name as string);
  if (bad.length) badSetters.push(containers(bad));
  return badSetters.length ? { reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0` } : undefined;
};

const seccompProfileBaseline: Check = (spec) => {
  const { badSetters, badValues } = podOrContainer(spec, (sc) => sc?.seccompProfile?.type, (v) => v !== 'Unconfined');
  return badSetters.length ? { reason: 'seccompProfile', detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(badValues))}` } : undefined;
};

const seccompProfile: Check = (spec) => {
  const { badSetters, badValues, implicit } = podOrContainer(spec, (sc) => sc?.seccompProfile?.type, (v) => v === 'RuntimeDefault' || v === 'Localhost');
  if (badSetters.length) return { reason: 'seccompProfile', detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(badValues))}` };
  if (implicit.length) return { reason: 'seccompProfile', detail: `pod or ${containers(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
  return undefined;
};

/**
 * The order upstream reports them in (measured against v1.34): at baseline every baseline check
 * by its id; at restricted the baseline checks restricted does not replace, then the restricted ones.
 */
const BASELINE: readonly Check[] = [capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, privileged, seccompProfileBaseline];
const RESTRICTED: readonly Check[] = [hostNamespaces, hostPorts, privileged, allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot, runAsUser, seccompProfile];

function checksFor(level: PodSecurityLevel): readonly Check[] {
  if (level === 'privileged') return [];
  return level === 'baseline' ? BASELINE : RESTRICTED;
}

/** `host namespaces (hostNetwork), privileged (container "x" must not set …)`, or undefined when the pod meets the level. */
export function podSecurityViolations(level: PodSecurityLevel, spec: Json): string | undefined {
  const violations = checksFor(level).map((check) => check(spec)).filter((v): v is Violation => v !== undefined);
  if (!violations.length) return undefined;
  return violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

/** The levels a namespace's labels ask for, as `restricted:latest`; an unknown level counts as restricted, as upstream defaults a bad label to the strictest. */
export function namespacePolicy(labels: Readonly<Record<string, string>> | undefined): { enforce?: { level: PodSecurityLevel; text: string }; warn?: { level: PodSecurityLevel; text: string } } {
  const mode = (m: 'enforce' | 'warn') => {
    const value = labels?.[`${LABEL}/${m}`];
    if (value === undefined) return undefined;
    const level = (LEVELS as readonly string[]).includes(value) ? (value as PodSecurityLevel) : 'restricted';
    if (level === 'privileged') return undefined;
    return { level, text: `${level}:${labels?.[`${LABEL}/${m}-version`] ?? 'latest'}` };
  };
  const enforce = mode('enforce');
  const warn = mode('warn');
  return { ...(enforce ? { enforce } : {}), ...(warn ? { warn } : {}) };
}
