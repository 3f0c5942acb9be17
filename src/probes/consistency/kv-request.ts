import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Permission } from '../../cluster/rbac.js';
import { rawRequest, serviceProxyPath, serviceProxyPermission } from '../../cluster/raw-request.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const NAME = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const SERVICE_URL = new RegExp(`^service:(?<namespace>${NAME})/(?<name>${NAME}):(?<port>[A-Za-z0-9-]+)(?<path>/.*)?$`);
const PLACEHOLDER = /\{(key|value|prefix)\}/g;

/** What fills a template's `{key}`, `{value}` and `{prefix}`. */
export interface TemplateValues {
  readonly key?: string;
  readonly value?: string;
  readonly prefix?: string;
}

export const kvRequestSchema = z.strictObject({
  method: z.enum(METHODS, { error: `the method is one of ${METHODS.join(', ')}` }).optional().describe('@default GET, or PUT for put'),
  url: z
    .string({ error: 'write the url as service:namespace/name:port/path or an absolute http(s) URL, like service:shop/db:80/kv/{key}' })
    .refine((u) => SERVICE_URL.test(u) || /^https?:\/\/[^/]/.test(u), {
      error: (iss) => `"${String(iss.input)}" is neither service:namespace/name:port/path (reached through the API server's service proxy) nor an http(s) URL; write it like service:shop/db:80/kv/{key}`,
    })
    .describe('service:namespace/name:port/path (through the API server\'s service proxy, on every cluster) or an http(s) URL; {key}, {value} and {prefix} are filled in, URL-encoded'),
  body: z.string().optional().describe('request body; {key}, {value} and {prefix} are filled in as they are'),
  headers: z.record(z.string(), z.string(), { error: 'headers map names to strings, like { content-type: text/plain }' }).optional().describe('request headers'),
});
export type KvRequestSpec = z.output<typeof kvRequestSchema>;

export interface KvAnswer {
  readonly status: number;
  readonly body: string;
  /** The header naming the replica that answered, when the service sends it. */
  readonly replica?: string;
}

/** Sends one templated request; rejects with the transport's error (or the abort). */
export type KvSender = (values: TemplateValues, signal: AbortSignal) => Promise<KvAnswer>;

function fill(template: string, values: TemplateValues, encode: (s: string) => string): string {
  return template.replace(PLACEHOLDER, (_, name: keyof TemplateValues) => encode(values[name] ?? ''));
}

/** Whether a template mentions `{name}` anywhere (url or body). */
export function mentions(spec: KvRequestSpec, name: keyof TemplateValues): boolean {
  return `${spec.url} ${spec.body ?? ''}`.includes(`{${name}}`);
}

export function kvSender(kubeConfig: KubeConfig, spec: KvRequestSpec, defaultMethod: string, replicaHeader: string): KvSender {
  const method = spec.method ?? defaultMethod;
  const headers = spec.headers ?? {};
  const replicaOf = (value: string | string[] | null | undefined): { replica?: string } => {
    const v = Array.isArray(value) ? value[0] : value;
    return v ? { replica: v } : {};
  };
  const service = serviceOf(spec.url);
  if (service) {
    const { namespace, name, port, path } = service;
    return async (values, signal) => {
      const body = spec.body === undefined ? undefined : fill(spec.body, values, (s) => s);
      const res = await rawRequest(kubeConfig, serviceProxyPath(namespace, name, port, fill(path, values, encodeURIComponent)), {
        method,
        headers,
        ...(body !== undefined ? { body, contentType: headers['content-type'] ?? 'text/plain' } : {}),
        signal,
      });
      return { status: res.status, body: res.body, ...replicaOf(res.headers[replicaHeader]) };
    };
  }
  return async (values, signal) => {
    const body = spec.body === undefined ? undefined : fill(spec.body, values, (s) => s);
    const res = await fetch(fill(spec.url, values, encodeURIComponent), { method, headers, ...(body !== undefined ? { body } : {}), signal });
    return { status: res.status, body: await res.text(), ...replicaOf(res.headers.get(replicaHeader)) };
  };
}

/** A request through the service proxy needs that verb on `services/proxy`; a URL needs nothing from the API. */
export function kvRequestPermission(why: string, spec: KvRequestSpec, defaultMethod: string): Permission[] {
  const service = serviceOf(spec.url);
  return service ? [serviceProxyPermission(why, service.namespace, service.name, service.port, spec.method ?? defaultMethod)] : [];
}

function serviceOf(url: string): { namespace: string; name: string; port: string; path: string } | undefined {
  const g = SERVICE_URL.exec(url)?.groups;
  return g ? { namespace: g.namespace!, name: g.name!, port: g.port!, path: g.path ?? '/' } : undefined;
}
