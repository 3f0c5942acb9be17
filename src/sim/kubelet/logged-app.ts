import type { BehaviourKnobs } from '../dataplane/behaviour-knobs.js';
import type { ContainerApp } from '../dataplane/container-server.js';
import type { ContainerLog } from './container-log.js';

/** An access-log line per request and a line on SIGTERM: what `kubectl logs` shows of a data-plane server. */
export function loggedApp(app: ContainerApp, log: ContainerLog, knobs: BehaviourKnobs): ContainerApp {
  return {
    ...(app.metricsPath !== undefined ? { metricsPath: app.metricsPath } : {}),
    async handle(request, state) {
      const response = await app.handle(request, state);
      const size = typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length;
      log.write(`"${request.method} ${request.path} HTTP/1.1" ${response.status} ${size} "${request.headers['user-agent'] ?? '-'}"`);
      return response;
    },
    onTerminate() {
      log.write(knobs.shutdown === 'drop' ? 'received SIGTERM, exiting immediately' : 'received SIGTERM, draining connections before exit');
      app.onTerminate?.();
    },
    stop() {
      app.stop?.();
    },
  };
}
