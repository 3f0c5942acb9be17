import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { StoreError, type ObjectStore, type StoredObject } from '../store.js';
import { Admission } from './admission.js';
import { ApiError, statusOfError } from './api-error.js';
import { ApiFaultInjector, inflict, type ApiFaultSettings } from './api-faults.js';
import { AccessReviews, isReview } from './auth/access-reviews.js';
import { ensureBootstrapPolicy } from './auth/bootstrap-policy.js';
import { RbacAuthorizer } from './auth/rbac-authorizer.js';
import { RequestGate } from './auth/request-gate.js';
import { TokenAuthority } from './auth/token-authority.js';
import type { UserInfo } from './auth/user-info.js';
import { SERVER_VERSION, apiGroup, apiGroupList, apiResourceList, coreVersions } from './discovery.js';
import { upgradePortForward, type PortForwarder } from './pod-port-forward-upgrade.js';
import { openApiV3GroupVersion, openApiV3Root } from './openapi.js';
import { OpenApiV2 } from './openapi-v2.js';
import { PodExecEndpoint } from './pod-exec.js';
import { servePodLog } from './pod-log.js';
import type { PodRuntime } from './pod-runtime.js';
import { negotiate, readBody, rejectUpgrade, sendJson, sendStatus } from './http-exchange.js';
import type { PodUsageSource } from '../dataplane/pod-metrics.js';
import { MetricsApi } from './metrics-api.js';
import { ResourceHandler, type ResourceRequest } from './resource-handler.js';
import { queryFlag } from './query-flag.js';
import { findResource, type ResourceType } from './resources.js';
import { CustomResourceCleanup } from './custom-resource-definitions.js';
import { CustomResources } from './custom-resources.js';
import { ensureSystemPriorityClasses } from './priority.js';

/**
 * The embedded cluster's Kubernetes API server: a real HTTP server speaking the Kubernetes REST
 * API over the ObjectStore, so `@kubernetes/client-node` and kubectl work against it unchanged.
 */
export interface ApiServerOptions {
  readonly store: ObjectStore;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** tolerationSeconds of the not-ready/unreachable tolerations added to new pods. @default 300 */
  readonly defaultTolerationSeconds?: number;
  readonly hooks?: ApiHooks;
  /** Create default, kube-system, kube-public and kube-node-lease and the system PriorityClasses when missing, as the real server does at start. @default true */
  readonly ensureSystemNamespaces?: boolean;
  /** Unsent watch output above which a slow watcher is disconnected. @default 16 MiB */
  readonly watchBufferLimitBytes?: number;
  /** How often a watch that allows bookmarks gets one. @default 60000 */
  readonly bookmarkIntervalMs?: number;
  /** The admin token and the key of service account tokens. @default a new authority */
  readonly tokens?: TokenAuthority;
  /** Fail a share of API requests on purpose (api-faults.ts). @default none */
  readonly apiFaults?: ApiFaultSettings;
}

export interface ApiHooks {
  /** /api/v1/namespaces/{ns}/services/{name}[:{port}]/proxy/{path}: forward to one ready endpoint. `path` starts with `/` and keeps the query string. */
  serviceProxy?(req: IncomingMessage, res: ServerResponse, target: { namespace: string; service: string; port: string; path: string }): void;
  /** /api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}: forward to the pod. `path` starts with `/` and keeps the query string. */
  podProxy?(req: IncomingMessage, res: ServerResponse, target: { namespace: string; name: string; path: string }): void;
  /** The kubelets behind pods/exec and pods/log. */
  kubelet?: PodRuntime;
  /** The data plane behind pods/portforward. */
  portForward?: PortForwarder;
  /** Per-pod usage behind the metrics APIs (metrics.k8s.io, custom.metrics.k8s.io); without it they answer 503, as an unavailable APIService does. */
  podUsage?: PodUsageSource;
  /** Routes under /gameday/ (the node fault endpoint). Return true when handled. */
  extraRoute?(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

interface ResourcePath {
  readonly resource: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly watch: boolean;
  /** Path segments after the subresource (a service proxy's target path). */
  readonly rest: readonly string[];
}

type FindResource = (group: string, version: string, plural: string) => ResourceType | undefined;

function parseResourcePath(segments: readonly string[], findResource: FindResource): ResourcePath | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  }
  const watch = rest[0] === 'watch';
  if (watch) rest = rest.slice(1);
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const resource = findResource(group, version, rest[2]!);
    if (resource?.namespaced) {
      return { resource, namespace: rest[1]!, ...(rest[3] !== undefined ? { name: rest[3] } : {}), ...(rest[4] !== undefined ? { subresource: rest[4] } : {}), watch, rest: rest.slice(5) };
    }
  }
  const resource = rest[0] !== undefined ? findResource(group, version, rest[0]) : undefined;
  if (!resource) return undefined;
  // A namespaced resource listed across all namespaces: /api/v1/pods.
  if (resource.namespaced && rest.length > 1) return undefined;
  return { resource, ...(rest[1] !== undefined ? { name: rest[1] } : {}), ...(rest[2] !== undefined ? { subresource: rest[2] } : {}), watch, rest: rest.slice(3) };
}

export class ApiServer {
  /** Upgraded pods/portforward connections, which the HTTP server no longer tracks. */
  private readonly forwarded = new Set<Duplex>();
  private readonly server: Server;
  private readonly handler: ResourceHandler;
  private readonly exec: PodExecEndpoint;
  private readonly metrics: MetricsApi;
  private readonly gate: RequestGate;
  private readonly reviews: AccessReviews;
  readonly tokens: TokenAuthority;
  private readonly customResources: CustomResources;
  private readonly customResourceCleanup: CustomResourceCleanup;
  private readonly openApiV2: OpenApiV2;
  private baseUrl = '';
  /** Present when the server fails a share of requests on purpose. */
  readonly faults: ApiFaultInjector | undefined;
  /** The static table first, then the resources CRDs add. */
  private readonly findResource: FindResource = (group, version, plural) => findResource(group, version, plural) ?? this.customResources.find(group, version, plural);

  constructor(private readonly options: ApiServerOptions) {
    this.handler = new ResourceHandler(options.store, options.defaultTolerationSeconds ?? 300, {
      maxBufferedBytes: options.watchBufferLimitBytes ?? 16 * 1024 * 1024,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    });
    this.exec = new PodExecEndpoint(options.store, options.hooks?.kubelet);
    this.metrics = new MetricsApi(options.store, options.hooks?.podUsage);
    this.tokens = options.tokens ?? new TokenAuthority(options.store);
    const authorizer = new RbacAuthorizer(options.store);
    this.gate = new RequestGate(this.tokens, authorizer);
    this.reviews = new AccessReviews(options.store, authorizer, this.tokens);
    this.customResources = new CustomResources(options.store);
    this.openApiV2 = new OpenApiV2(this.customResources);
    this.faults = options.apiFaults ? new ApiFaultInjector(options.apiFaults) : undefined;
    this.customResourceCleanup = new CustomResourceCleanup(options.store, findResource('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!);
    this.server = createServer((req, res) => void this.serve(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    // Watches are long-lived; only the request head has to arrive in time.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 30_000;
  }

  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    if (this.options.ensureSystemNamespaces ?? true) {
      this.createSystemNamespaces();
      ensureBootstrapPolicy(this.options.store);
      ensureSystemPriorityClasses(this.options.store);
    }
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.customResources.stop();
    this.customResourceCleanup.stop();
    this.handler.stop();
    if (!this.server.listening) return;
    this.exec.stop();
    for (const socket of this.forwarded) socket.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private createSystemNamespaces(): void {
    const { store } = this.options;
    const namespaces = findResource('', 'v1', 'namespaces')!;
    const admission = new Admission({ store, defaultTolerationSeconds: this.options.defaultTolerationSeconds ?? 300 });
    for (const name of SYSTEM_NAMESPACES) {
      if (store.get(namespaces.storeKey, undefined, name)) continue;
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as unknown as StoredObject;
      admission.admitCreate(namespaces, ns);
      store.create(namespaces.storeKey, ns);
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      this.fail(res, err, req);
    }
  }

  private fail(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) return sendStatus(res, err.toStatus());
    const route = this.safeRoute(req);
    if (err instanceof StoreError && route?.name !== undefined) {
      if (err.reason === 'NotFound') return sendStatus(res, ApiError.notFound(route.resource, route.name).toStatus());
      if (err.reason === 'AlreadyExists') return sendStatus(res, ApiError.alreadyExists(route.resource, route.name).toStatus());
      if (err.reason === 'Conflict') return sendStatus(res, ApiError.conflict(route.resource, route.name, 'the object has been modified; please apply your changes to the latest version and try again').toStatus());
    }
    sendStatus(res, statusOfError(err));
  }

  private safeRoute(req: IncomingMessage): ResourcePath | undefined {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      return parseResourcePath(url.pathname.split('/').filter(Boolean).map(decodeURIComponent), this.findResource);
    } catch {
      return undefined;
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const user = this.gate.admit({ method, path: url.pathname, query: url.searchParams, headers: req.headers });
    if (path.startsWith('/gameday/')) {
      if (this.options.hooks?.extraRoute && (await this.options.hooks.extraRoute(req, res, url))) return;
      throw ApiError.pathNotFound();
    }
    if (method === 'GET' && path === '/openapi/v2') return void this.openApiV2.serve(req, res);
    if (method === 'GET' && this.discovery(path, res)) return;
    if (this.metrics.serve(method, path, url.searchParams, res)) return;
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (segments[0] !== 'api' && segments[0] !== 'apis') throw ApiError.pathNotFound();
    const target = parseResourcePath(segments, this.findResource);
    if (!target) throw ApiError.pathNotFound();
    if (target.subresource === 'proxy' && target.resource.storeKey === 'services' && target.namespace !== undefined && target.name !== undefined) {
      return this.proxy(req, res, url, target);
    }
    if (target.resource.storeKey === 'pods' && target.namespace !== undefined && target.name !== undefined && target.subresource !== undefined) {
      if (this.podSubresource(req, res, url, target)) return;
    }
    if (target.rest.length) throw ApiError.pathNotFound();
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readBody(req) : undefined;
    const watch = target.watch || (method === 'GET' && target.name === undefined && queryFlag(url.searchParams, 'watch'));
    // A node's proxy is the kubelet's business, as the service and pod proxies are the workload's.
    const fault = target.subresource === 'proxy' ? undefined : this.faults?.decide({ method, watch, ...resumePoint(url.searchParams) });
    if (fault) {
      const serve = async (): Promise<void> => {
        try {
          await this.serveResource(req, res, url, method, target, body, user);
        } catch (err) {
          this.fail(res, err, req);
        }
      };
      const currentResourceVersion = (): number => this.options.store.resourceVersion;
      return inflict(fault, { req, res, query: url.searchParams, currentResourceVersion, serve }, this.faults!.settings);
    }
    await this.serveResource(req, res, url, method, target, body, user);
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, url: URL, method: string, target: ResourcePath, body: unknown, user: UserInfo): Promise<void> {
    if (this.answerReview(res, method, target, body, user)) return;
    const request: ResourceRequest = {
      method,
      resource: target.resource,
      ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
      ...(target.name !== undefined ? { name: target.name } : {}),
      ...(target.subresource !== undefined ? { subresource: target.subresource } : {}),
      watch: target.watch,
      query: url.searchParams,
      negotiated: negotiate(req.headers.accept),
      contentType: req.headers['content-type'] ?? '',
      body,
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
    };
    await this.handler.handle(request, res);
  }

  /** Reviews and token requests are answered, not stored; false for every other request. */
  private answerReview(res: ServerResponse, method: string, target: ResourcePath, body: unknown, user: UserInfo): boolean {
    const tokenRequest = target.resource.storeKey === 'serviceaccounts' && target.subresource === 'token';
    if (!tokenRequest && !isReview(target.resource)) return false;
    if (method !== 'POST' || (tokenRequest ? target.name === undefined : target.name !== undefined) || target.watch) throw ApiError.methodNotAllowed();
    const answer = tokenRequest ? this.reviews.tokenRequest(target.namespace!, target.name!, body) : this.reviews.review(target.resource, target.namespace, body, user);
    sendJson(res, answer.code, answer.body);
    return true;
  }

  private proxy(req: IncomingMessage, res: ServerResponse, url: URL, target: ResourcePath): void {
    const hook = this.options.hooks?.serviceProxy;
    if (!hook) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.name}"`, {});
    const raw = url.pathname;
    const marker = '/proxy';
    const at = raw.indexOf(marker, raw.indexOf(`/services/`) + 1);
    const after = at >= 0 ? raw.slice(at + marker.length) : '/';
    const [service, ...port] = target.name!.split(':');
    hook(req, res, { namespace: target.namespace!, service: service!, port: port.join(':'), path: (after || '/') + url.search });
  }

  /** pods/proxy, pods/log and a pods/exec that did not ask to upgrade; false for the other pod subresources. */
  private podSubresource(req: IncomingMessage, res: ServerResponse, url: URL, target: ResourcePath): boolean {
    const method = req.method ?? 'GET';
    const namespace = target.namespace!;
    switch (target.subresource) {
      case 'proxy': {
        const hook = this.options.hooks?.podProxy;
        if (!hook) throw new ApiError(503, 'ServiceUnavailable', `no data plane serves pods "${target.name}"`, {});
        const raw = url.pathname;
        const at = raw.indexOf('/proxy', raw.indexOf('/pods/') + 1);
        hook(req, res, { namespace, name: target.name!, path: (raw.slice(at + '/proxy'.length) || '/') + url.search });
        return true;
      }
      case 'log':
        if (target.rest.length) throw ApiError.pathNotFound();
        if (method !== 'GET') throw ApiError.methodNotAllowed();
        servePodLog(this.options.store, this.options.hooks?.kubelet, namespace, target.name!, url.searchParams, res);
        return true;
      case 'exec':
        if (target.rest.length) throw ApiError.pathNotFound();
        if (method !== 'GET' && method !== 'POST') throw ApiError.methodNotAllowed();
        this.exec.open(namespace, target.name!, url.searchParams);
        throw ApiError.badRequest('Upgrade request required');
      default:
        return false;
    }
  }

  /** Connection upgrades: pods/exec and pods/attach over WebSocket or SPDY, pods/portforward over SPDY; every other path gets a Status. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const segments = url.pathname.replace(/\/+$/, '').split('/').filter(Boolean).map(decodeURIComponent);
      const target = segments[0] === 'api' || segments[0] === 'apis' ? parseResourcePath(segments, this.findResource) : undefined;
      const protocol = String(req.headers.upgrade ?? '');
      this.gate.admit({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, websocket: protocol.toLowerCase() === 'websocket' });
      const pod = target && target.resource.storeKey === 'pods' && !target.rest.length && target.namespace !== undefined && target.name !== undefined ? target : undefined;
      if (pod?.subresource === 'portforward') {
        const forwarder = this.options.hooks?.portForward;
        if (!forwarder) throw new ApiError(503, 'ServiceUnavailable', `no data plane serves pods "${pod.name}"`, {});
        if (protocol.toLowerCase() !== 'spdy/3.1') throw ApiError.badRequest(`the embedded cluster serves port-forward over SPDY/3.1 only; this client asked to upgrade to ${protocol || 'nothing'}`);
        this.forwarded.add(socket);
        socket.once('close', () => this.forwarded.delete(socket));
        return upgradePortForward(req, socket, head, pod.namespace!, pod.name!, forwarder);
      }
      if (!target || (pod?.subresource !== 'exec' && pod?.subresource !== 'attach')) {
        throw ApiError.badRequest(`the embedded cluster upgrades connections only for pods/exec, pods/attach and pods/portforward; ${url.pathname} cannot be upgraded to ${protocol}`);
      }
      const session = pod.subresource === 'attach' ? this.exec.openAttach(target.namespace!, target.name!, url.searchParams) : this.exec.open(target.namespace!, target.name!, url.searchParams);
      this.exec.upgrade(req, socket, head, session);
    } catch (err) {
      rejectUpgrade(socket, statusOfError(err));
    }
  }

  private discovery(path: string, res: ServerResponse): boolean {
    if (path === '/version') return respond(res, SERVER_VERSION);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return true;
    }
    if (path === '/api') return respond(res, coreVersions(this.baseUrl.replace(/^https?:\/\//, '')));
    const custom = this.customResources;
    if (path === '/apis') return respond(res, apiGroupList(custom.groups()));
    if (path === '/api/v1') return respond(res, apiResourceList('', 'v1'));
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) return respond(res, apiGroup(group[1]!, custom.groups()));
    if (path === '/openapi/v3') return respond(res, openApiV3Root(custom));
    if (path.startsWith('/openapi/v3/')) return respond(res, openApiV3GroupVersion(path.slice('/openapi/v3/'.length), custom));
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (gv) return respond(res, apiResourceList(gv[1]!, gv[2]!, custom.resources(gv[1]!, gv[2]!)));
    return false;
  }
}

/** The resourceVersion a watch resumes from; a watch from `0`, from now or with initial events resumes nothing. */
function resumePoint(query: URLSearchParams): { resumesFrom?: string } {
  const rv = query.get('resourceVersion');
  if (!rv || rv === '0' || queryFlag(query, 'sendInitialEvents')) return {};
  return { resumesFrom: rv };
}

function respond(res: ServerResponse, body: unknown): boolean {
  if (body === undefined) return false;
  sendJson(res, 200, body);
  return true;
}

