import path from 'node:path';
import { z } from 'zod';
import type { KubernetesObject } from '@kubernetes/client-node';
import { describeObject, dryRunCreate, dryRunCreatePermission, DryRunUnanswered, type DryRunAnswer } from '../../cluster/dry-run-create.js';
import { ADMISSION_TARGET_DESCRIPTION, ADMISSION_TARGET_PATTERN } from '../../core/admission-target.js';
import { Duration } from '../../core/duration.js';
import { errorMessage } from '../../core/errors.js';
import { positiveDurationSchema } from '../../spec/value-schemas.js';
import type { ProbePlugin } from '../probe.js';
import { sampleOnChange } from '../shared/sample-on-change.js';
import { readAdmissionManifest } from './manifest.js';

/** An object inline in the experiment: what a manifest file must hold, written under the probe. */
const inlineManifest = z.looseObject({
  apiVersion: z.string().min(1).describe('like v1'),
  kind: z.string().min(1).describe('like Pod'),
  metadata: z.looseObject({
    name: z.string().min(1).optional(),
    generateName: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
  }).refine((m) => m.name !== undefined || m.generateName !== undefined, { message: 'name the object (metadata.name, or metadata.generateName)' }),
});

const params = z
  .strictObject({
    target: z.string().regex(ADMISSION_TARGET_PATTERN, { error: `write the manifest as ${ADMISSION_TARGET_DESCRIPTION}` }).optional().describe(`the object to create in a dry run: ${ADMISSION_TARGET_DESCRIPTION}`),
    manifest: inlineManifest.optional().describe('the object to create in a dry run, written inline (apiVersion, kind, metadata, spec)'),
    every: positiveDurationSchema.optional().describe('how often to ask again (namespace labels and policies may change during a run). @default 2s'),
  })
  .refine((p) => (p.target === undefined) !== (p.manifest === undefined), { message: 'give either target (a manifest file) or manifest (the object inline)' });
type Params = z.output<typeof params>;

/** The object a probe sends and how messages name it: the file, or `inline Pod checkout/root`. */
function objectOf(p: Params, experimentDir: string): { object?: KubernetesObject; shown: string; problems?: readonly string[] } {
  if (p.manifest) {
    const object = p.manifest as KubernetesObject;
    return { object, shown: `inline ${describeObject(object)}` };
  }
  const read = readAdmissionManifest(path.resolve(experimentDir, p.target!), p.target!);
  return { ...read, shown: p.target! };
}

/** The words of a sample: what the server did with the manifest, naming it. */
function said(target: string, answer: DryRunAnswer): string {
  if (answer.admitted) return `${target}: the API server admitted ${answer.object} (dry run, nothing stored)`;
  return `${target}: refused (${answer.code}${answer.reason ? ` ${answer.reason}` : ''}): ${answer.message}`;
}

/**
 * Admission, asked of the API server itself: the manifest's object is created with
 * `?dryRun=All`, so Pod Security, quota, validation and any webhooks judge it and nothing is
 * stored. A sample whenever the answer changes, value 1 when the answer is the function's
 * (`admits`: admitted; `denies`: refused), with the server's message in its detail.
 */
function admissionProbe(kind: 'admits' | 'denies', summary: string): ProbePlugin<Params> {
  return {
    kind,
    summary,
    params,

    targetProblems(target, experimentDir) {
      return readAdmissionManifest(path.resolve(experimentDir, target), target).problems ?? [];
    },

    permissions(p, experimentDir = '.') {
      const { object, shown } = objectOf(p, experimentDir);
      return object ? [dryRunCreatePermission(`${kind}(${shown}): create its object in a dry run (nothing is stored)`, object)] : [];
    },

    async start(ctx, p) {
      const { object, shown, problems } = objectOf(p, ctx.experimentDir);
      if (!object) throw new Error((problems ?? []).join('\n'));
      return sampleOnChange(ctx, (p.every ?? Duration.seconds(2)).ms, async () => {
        try {
          const answer = await dryRunCreate(ctx.cluster.kubeConfig, object);
          const yes = kind === 'admits' ? answer.admitted : !answer.admitted;
          return { ok: true, value: yes ? 1 : 0, detail: { manifest: shown, ...answer, message: said(shown, answer) } };
        } catch (err) {
          const unanswered = err instanceof DryRunUnanswered;
          const message = `${shown}: the API server could not judge it${unanswered ? ` (${err.code})` : ''}: ${errorMessage(err).slice(0, 300)}`;
          return { ok: false, error: 'dry-run-failed', detail: { manifest: shown, message } };
        }
      });
    },
  };
}

/** `admits(pods/compliant.yaml) == true`: the API server would create the manifest's object. */
export const admitsProbe = admissionProbe('admits', "whether the API server admits a manifest's object, through a dry-run create, at every change");

/** `denies(pods/privileged.yaml) == true`: the API server refuses the manifest's object, with its message. */
export const deniesProbe = admissionProbe('denies', "whether the API server refuses a manifest's object, through a dry-run create, at every change");
