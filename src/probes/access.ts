import { z } from 'zod';
import { ACCESS_REVIEW_PERMISSION, reviewAccess } from '../cluster/access-review.js';
import { abortableSleep } from '../core/abortable-sleep.js';
import { ACCESS_TARGET_PATTERN, parseAccessTarget } from '../core/access-target.js';
import { Duration } from '../core/duration.js';
import { errorMessage } from '../core/errors.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import type { ProbePlugin } from './probe.js';

const params = z.strictObject({
  target: z
    .string()
    .regex(ACCESS_TARGET_PATTERN, { error: 'write the access as serviceaccount/namespace/name, verb, resource[, namespace], like "serviceaccount/shop/web, get, secrets"' })
    .describe('the access asked about: serviceaccount/namespace/name, verb, resource[, namespace]'),
  every: positiveDurationSchema.optional().describe('how often to ask again. @default 2s'),
});
type Params = z.output<typeof params>;

/**
 * Whether a service account may do something, asked of the cluster's authorizer through a
 * SubjectAccessReview (never by trying it): `can(serviceaccount/shop/web, get, secrets) == false`.
 * A sample (value 1 allowed, 0 denied, with the authorizer's reason) whenever the answer changes;
 * a review the API server refuses is a failed sample.
 */
export const accessProbe: ProbePlugin<Params> = {
  kind: 'access',
  summary: 'whether a service account may do a verb on a resource, through SubjectAccessReview, at every change',
  params,

  permissions() {
    return [ACCESS_REVIEW_PERMISSION];
  },

  async start(ctx, p) {
    const target = parseAccessTarget(p.target);
    const every = (p.every ?? Duration.seconds(2)).ms;
    const stopping = new AbortController();
    let last = '';
    const observe = async (): Promise<void> => {
      const t = Date.now();
      let sample;
      try {
        const answer = await reviewAccess(ctx.cluster.kubeConfig, target);
        // The reason names the binding that allows it, so a failed check says which grant is too broad.
        sample = { ok: true, value: answer.allowed ? 1 : 0, detail: { allowed: answer.allowed, ...(answer.reason ? { reason: answer.reason, message: answer.reason } : {}) } };
      } catch (err) {
        sample = { ok: false, error: 'review-failed', detail: { message: errorMessage(err).slice(0, 300) } };
      }
      const key = JSON.stringify(sample);
      if (key === last) return;
      last = key;
      ctx.emit({ t, ...sample });
    };
    await observe();
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        await abortableSleep(every, stopping.signal);
        if (!stopping.signal.aborted) await observe();
      }
    })().catch((err: unknown) => ctx.fail?.(err));
    return {
      async stop() {
        stopping.abort();
        await loop;
      },
    };
  },
};
