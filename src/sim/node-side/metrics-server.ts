import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApiError, statusOfError } from '../api/api-error.js';
import { forbidden } from '../api/auth/request-gate.js';
import { requestAttributes } from '../api/auth/request-attributes.js';
import { SYSTEM_MASTERS } from '../api/auth/user-info.js';
import { aggregatedApiGroupList, apiGroup, apiResourceList } from '../api/discovery.js';
import { sendJson, sendStatus } from '../api/http-exchange.js';
import { AGGREGATED_APIS, MetricsApi } from '../api/metrics-api.js';
import type { PodUsageSource } from '../dataplane/pod-metrics.js';
import type { ObjectStore } from '../store.js';
import type { Authorizer } from './delegated-authorizer.js';
import { frontProxyUser, type FrontProxyTrust } from './front-proxy-authenticator.js';

export interface MetricsServerOptions {
  readonly store: ObjectStore;
  readonly usage: PodUsageSource;
  /** The serving certificate and key (PEM), which the APIServices' caBundle verifies. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly frontProxy: FrontProxyTrust;
  /** Decides on each request the system:masters group does not cover. */
  readonly authorizer: Authorizer;
}

/** Paths any caller may read, as k8s.io/apiserver's delegated authorization always allows them. */
const ALWAYS_ALLOWED = new Set(['/healthz', '/livez', '/readyz']);

/**
 * The metrics APIs as an aggregated API server, for an upstream API server: what metrics-server
 * (`metrics.k8s.io/v1beta1`) and a custom metrics adapter (`custom.metrics.k8s.io/v1beta2`)
 * serve, answered by the same handlers as the embedded API server's, over HTTPS. The API server
 * proxies each request here with its front-proxy client certificate and the caller in X-Remote-*
 * headers; authorization is delegated back to it through SubjectAccessReviews. Discovery is the
 * legacy kind: `/apis` answers 406 to a request for aggregated discovery, so the aggregator reads
 * `/apis/<group>/<version>` instead.
 */
export class MetricsServer {
  private readonly server: Server;
  private readonly api: MetricsApi;

  constructor(private readonly options: MetricsServerOptions) {
    this.api = new MetricsApi(options.store, options.usage);
    this.server = createServer(
      { cert: options.certPem, key: options.keyPem, ca: options.frontProxy.clientCaPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => void this.serve(req, res),
    );
  }

  /** Resolves to the port listened on (the one given, or the one chosen for 0). */
  async listen(address: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, address, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://metrics-server');
    const method = req.method ?? 'GET';
    try {
      if (ALWAYS_ALLOWED.has(url.pathname)) return void res.end('ok');
      const user = frontProxyUser(req, this.options.frontProxy);
      if (!user.groups.includes(SYSTEM_MASTERS)) {
        const attributes = requestAttributes(user, method, url.pathname, url.searchParams);
        const decision = await this.options.authorizer.authorize(attributes);
        if (!decision.allowed) throw forbidden(attributes, decision.reason);
      }
      const document = discovery(url.pathname, req.headers.accept);
      if (document !== undefined) return sendJson(res, 200, document);
      if (!this.api.serve(method, url.pathname, url.searchParams, res)) throw ApiError.pathNotFound();
    } catch (err) {
      if (res.headersSent) res.destroy();
      else sendStatus(res, statusOfError(err));
    }
  }
}

/**
 * The discovery documents this server answers; undefined for any other path. No OpenAPI: the
 * aggregator's OpenAPI download skips a backend that answers 404, as this one does.
 */
function discovery(path: string, accept: string | undefined): unknown {
  if (path === '/apis') {
    if (!acceptsLegacyJson(accept)) throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    return aggregatedApiGroupList();
  }
  const [, apis, group, version, ...rest] = path.split('/');
  if (apis !== 'apis' || rest.length || !AGGREGATED_APIS.some((a) => a.group === group && (version === undefined || a.version === version))) return undefined;
  return version === undefined ? apiGroup(group!) : apiResourceList(group!, version);
}

/** Whether the Accept header takes plain JSON (not only the aggregated discovery document, which this server does not write). */
function acceptsLegacyJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    return ['application/json', 'application/*', '*/*'].includes(type ?? '') && !params.some((p) => p.startsWith('as='));
  });
}
