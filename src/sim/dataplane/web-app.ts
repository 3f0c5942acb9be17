import type { ContainerApp } from './container-server.js';
import { jsonResponse, textResponse, type VirtualRequest } from './traffic.js';

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly ip: string;
}

/**
 * nginx, httpd, http-echo, agnhost and gameday/web alike: `/healthz`, `/readyz` (503 once
 * terminating), `/hostname`, `/checkout` (an HTML page for browser journeys), `/` as a small page
 * for a browser (a request that accepts text/html), and everything else echoes who answered. http-echo's `-text` wins. Every answer names its pod in `x-pod-name`, as
 * many real services do, so probes can tell which pod failed a request. With `metricsPath` (gameday/web)
 * it is instrumented: the container serves its request metrics there for Prometheus.
 */
export function webApp(pod: PodIdentity, args: readonly string[], options: { readonly metricsPath?: string } = {}): ContainerApp {
  const textArg = args.find((a) => a.startsWith('-text=') || a.startsWith('--text='));
  const text = textArg?.slice(textArg.indexOf('=') + 1);
  const served = { 'x-pod-name': pod.name };
  return {
    ...(options.metricsPath !== undefined ? { metricsPath: options.metricsPath } : {}),
    handle(req: VirtualRequest, state) {
      const path = req.path.split('?')[0]!;
      if (path === '/healthz' || path === '/livez') return textResponse(200, 'ok\n', served);
      if (path === '/readyz') return state.terminating ? textResponse(503, 'shutting down\n', served) : textResponse(200, 'ok\n', served);
      if (path === '/hostname') return textResponse(200, pod.name, served);
      if (path === '/checkout') return textResponse(200, checkoutPage(pod.name), { 'content-type': 'text/html; charset=utf-8', ...served });
      if (text !== undefined) return textResponse(200, `${text}\n`, served);
      // A browser gets a small page saying who served it; clients that ask for anything get the JSON echo.
      if (path === '/' && /text\/html/.test(req.headers.accept ?? '')) return textResponse(200, welcomePage(pod), { 'content-type': 'text/html; charset=utf-8', ...served });
      return jsonResponse(200, { pod: pod.name, namespace: pod.namespace, node: pod.node, ip: pod.ip, method: req.method, path: req.path }, served);
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a browser sees at `/`: which pod, on which node, answered. */
function welcomePage(pod: PodIdentity): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Served by ${escapeHtml(pod.name)}</title></head>
<body>
<h1>It works</h1>
<p>Served by pod <strong id="pod">${escapeHtml(pod.name)}</strong> in namespace ${escapeHtml(pod.namespace)}, on node ${escapeHtml(pod.node)} (${escapeHtml(pod.ip)}).</p>
<p>This is gameday's embedded web image: <code>/healthz</code>, <code>/readyz</code>, <code>/hostname</code> and <code>/checkout</code> are served too; anything else echoes the request as JSON.</p>
</body></html>
`;
}

/** A page with a button and the confirmation it reveals: something for browser journeys to click through. */
function checkoutPage(podName: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Checkout</title></head>
<body>
<h1>Checkout</h1>
<p id="served-by">${podName}</p>
<button id="buy" onclick="document.getElementById('confirmation').hidden = false">Buy</button>
<p id="confirmation" hidden>Thank you for your order</p>
</body></html>
`;
}

/** Any other image: it answers whatever its probes ask with 200. */
export function genericApp(pod: PodIdentity): ContainerApp {
  return {
    handle: (_req, state) => textResponse(state.terminating ? 503 : 200, state.terminating ? 'shutting down\n' : 'ok\n', { 'x-pod-name': pod.name }),
  };
}
