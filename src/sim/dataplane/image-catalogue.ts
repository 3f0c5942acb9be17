import type { ContainerApp } from './container-server.js';
import { kvApp, type KvAppOptions } from './kv-app.js';
import { genericApp, webApp, type PodIdentity } from './web-app.js';

/** `gameday-web` is `web` instrumented: it also serves Prometheus metrics on `/metrics`. */
export type ImageKind = 'gameday-web' | 'web' | 'kv' | 'generic';

interface CatalogueEntry {
  readonly kind: ImageKind;
  readonly pattern: RegExp;
  /** Ports the image listens on even when the pod spec declares none. */
  readonly defaultPorts: readonly number[];
}

/** The well-known images; the first match wins, anything else is generic. */
const CATALOGUE: readonly CatalogueEntry[] = [
  { kind: 'kv', pattern: /(^|\/)gameday\/kv(:|@|$)/, defaultPorts: [8080] },
  { kind: 'gameday-web', pattern: /(^|\/)gameday\/web(:|@|$)/, defaultPorts: [8080] },
  { kind: 'web', pattern: /(^|\/)(nginx|nginxinc\/[\w-]+)(:|@|$)/, defaultPorts: [80] },
  { kind: 'web', pattern: /(^|\/)httpd(:|@|$)/, defaultPorts: [80] },
  { kind: 'web', pattern: /(^|\/)hashicorp\/http-echo(:|@|$)/, defaultPorts: [5678] },
  { kind: 'web', pattern: /(^|\/)e2e-test-images\/agnhost(:|@|$)/, defaultPorts: [8080, 9376] },
  { kind: 'web', pattern: /(^|\/)(echoserver|traefik\/whoami|ealen\/echo-server|caddy)(:|@|$)/, defaultPorts: [80, 8080] },
];

export function classifyImage(image: string): { kind: ImageKind; defaultPorts: readonly number[] } {
  const hit = CATALOGUE.find((e) => e.pattern.test(image));
  return hit ? { kind: hit.kind, defaultPorts: hit.defaultPorts } : { kind: 'generic', defaultPorts: [] };
}

export interface AppContext {
  readonly pod: PodIdentity;
  readonly args: readonly string[];
  readonly kv: Omit<KvAppOptions, 'pod'>;
}

export function appFor(kind: ImageKind, ctx: AppContext): ContainerApp {
  switch (kind) {
    case 'gameday-web':
      return webApp(ctx.pod, ctx.args, { metricsPath: '/metrics' });
    case 'web':
      return webApp(ctx.pod, ctx.args);
    case 'kv':
      return kvApp({ ...ctx.kv, pod: ctx.pod });
    case 'generic':
      return genericApp(ctx.pod);
  }
}
