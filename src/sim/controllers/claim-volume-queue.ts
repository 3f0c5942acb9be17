import { objectKey, type Informer } from '../informer.js';
import { claimSpec, volumeSpec } from '../persistent-volume.js';
import type { ControllerContext } from './controller-context.js';
import { WorkQueue } from './work-queue.js';

export interface ClaimVolumeHandlers {
  /** A claim (`namespace/name`) changed, or the volume bound to it did. */
  claim(key: string): void;
  /** A volume changed, or the claim bound to it went away. */
  volume(name: string): void;
}

export interface ClaimVolumeQueue {
  readonly claims: Informer;
  readonly volumes: Informer;
  /** Enqueues a claim by `namespace/name`. */
  addClaim(key: string): void;
  stop(): void;
}

/**
 * The one work queue each storage controller runs over claims and volumes, fed by both informers:
 * a change to either side of a binding syncs both sides, and everything is synced once at start.
 */
export function startClaimVolumeQueue(ctx: ControllerContext, name: string, handlers: ClaimVolumeHandlers): ClaimVolumeQueue {
  const claims = ctx.informers.for('persistentvolumeclaims');
  const volumes = ctx.informers.for('persistentvolumes');
  const queue = new WorkQueue(name, (key) => (key.startsWith('pv:') ? handlers.volume(key.slice(3)) : handlers.claim(key.slice(4))));
  const addClaim = (key: string): void => queue.add(`pvc:${key}`);
  const offClaims = claims.onChange((type, claim) => {
    const volume = claimSpec(claim).volumeName;
    if (type !== 'DELETED') addClaim(objectKey(claim));
    else if (volume) queue.add(`pv:${volume}`);
  });
  const offVolumes = volumes.onChange((type, pv) => {
    if (type !== 'DELETED') queue.add(`pv:${pv.metadata.name}`);
    const ref = volumeSpec(pv).claimRef;
    if (ref?.name) addClaim(`${ref.namespace}/${ref.name}`);
  });
  for (const claim of claims.list()) addClaim(objectKey(claim));
  for (const pv of volumes.list()) queue.add(`pv:${pv.metadata.name}`);
  return {
    claims,
    volumes,
    addClaim,
    stop() {
      offClaims();
      offVolumes();
      queue.stop();
    },
  };
}
