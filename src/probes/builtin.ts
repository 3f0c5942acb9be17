import type { Registry } from '../core/registry.js';
import { accessProbe } from './access.js';
import { admitsProbe, deniesProbe } from './admission/probe.js';
import { blastRadiusProbe } from './blast-radius.js';
import { browserProbe } from './browser.js';
import { commandProbe } from './command.js';
import { consistencyProbe } from './consistency/probe.js';
import { failoverProbe } from './failover.js';
import { httpProbe } from './http.js';
import { k6Probe } from './k6/probe.js';
import { pdbProbe } from './pdb.js';
import { evictionsProbe, oomKillsProbe, restartsProbe } from './pod-events.js';
import type { ProbePlugin } from './probe.js';
import { prometheusProbe } from './prometheus.js';
import { readinessProbe } from './readiness.js';
import { reachabilityProbe } from './reachability.js';
import { readyProbe, replicasProbe } from './ready.js';

/** Every probe kind gameday ships, under its YAML key. */
export function registerBuiltinProbes(registry: Registry<ProbePlugin>): void {
  registry.register(httpProbe as ProbePlugin);
  registry.register(browserProbe as ProbePlugin);
  registry.register(pdbProbe as ProbePlugin);
  registry.register(readinessProbe as ProbePlugin);
  registry.register(failoverProbe as ProbePlugin);
  registry.register(readyProbe as ProbePlugin);
  registry.register(replicasProbe as ProbePlugin);
  registry.register(commandProbe as ProbePlugin);
  registry.register(k6Probe as ProbePlugin);
  registry.register(prometheusProbe as ProbePlugin);
  registry.register(consistencyProbe as ProbePlugin);
  registry.register(accessProbe as ProbePlugin);
  registry.register(reachabilityProbe as ProbePlugin);
  registry.register(admitsProbe as ProbePlugin);
  registry.register(deniesProbe as ProbePlugin);
  registry.register(blastRadiusProbe as ProbePlugin);
  registry.register(restartsProbe as ProbePlugin);
  registry.register(oomKillsProbe as ProbePlugin);
  registry.register(evictionsProbe as ProbePlugin);
}
