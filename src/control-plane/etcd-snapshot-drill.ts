import { locateEtcdTools } from './locate.js';
import type { EtcdTools } from './components.js';
import type { RealControlPlane } from './real-control-plane.js';

/**
 * The control plane's etcd as the etcdSnapshot and etcdRestore drill steps reach it
 * (src/engine/etcd-steps.ts), in the shape of `ClusterTarget.controlPlane` (src/cluster/target.ts,
 * which this folder may not import): snapshots kept in the control plane's state directory, which
 * holds the same secrets and goes with it. etcdctl and etcdutl are looked for when a step first
 * needs them, so a run without etcd steps never does.
 */
export function etcdSnapshotAccess(controlPlane: RealControlPlane, tools?: EtcdTools) {
  let found = tools;
  const etcdTools = (): EtcdTools => (found ??= locateEtcdTools());
  return {
    snapshotDir: controlPlane.stateDir,
    saveEtcdSnapshot: (file: string): Promise<void> => controlPlane.saveEtcdSnapshot(file, etcdTools()),
    restoreEtcdSnapshot: async (file: string): Promise<void> => {
      await controlPlane.restoreEtcdSnapshot(file, etcdTools());
    },
  };
}
