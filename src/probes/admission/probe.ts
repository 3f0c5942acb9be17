import path from 'node:path';
import { z } from 'zod';
import { dryRunCreate, dryRunCreatePermission, DryRunUnanswered, type DryRunAnswer } from '../../cluster/dry-run-create.js';
import { ADMISSION_TARGET_DESCRIPTION, ADMISSION_TARGET_PATTERN } from '../../core/admission-target.js';
import { Duration } from '../../core/duration.js';
import { errorMessage } from '../../core/errors.js';
import { positiveDurationSchema } from '../../spec/value-schemas.js';
import type { ProbePlugin } from '../probe.js';
import { sampleOnChange } from '../shared/sample-on-change.js';
import { readAdmissionManifest } from './manifest.js';

const params = z.strictObject({
  target: z.string().regex(ADMISSION_TARGET_PATTERN, { error: `write the manifest as ${ADMISSION_TARGET_DESCRIPTION}` }).describe(`the object to create in a dry run: ${ADMISSION_TARGET_DESCRIPTION}`),
  every: positiveDurationSchema.optional().describe('how often to ask again (namespace labels and policies may change during a run). @default 2s'),
});
type Params = z.output<typeof params>;

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
      const read = readAdmissionManifest(path.resolve(experimentDir, p.target), p.target);
      return read.object ? [dryRunCreatePermission(`${kind}(${p.target}): create its object in a dry run (nothing is stored)`, read.object)] : [];
    },

    async start(ctx, p) {
      const read = readAdmissionManifest(path.resolve(ctx.experimentDir, p.target), p.target);
      if (!read.object) throw new Error(read.problems.join('\n'));
      const object = read.object;
      return sampleOnChange(ctx, (p.every ?? Duration.seconds(2)).ms, async () => {
        try {
          const answer = await dryRunCreate(ctx.cluster.kubeConfig, object);
          const yes = kind === 'admits' ? answer.admitted : !answer.admitted;
          return { ok: true, value: yes ? 1 : 0, detail: { manifest: p.target, ...answer, message: said(p.target, answer) } };
        } catch (err) {
          const unanswered = err instanceof DryRunUnanswered;
          const message = `${p.target}: the API server could not judge it${unanswered ? ` (${err.code})` : ''}: ${errorMessage(err).slice(0, 300)}`;
          return { ok: false, error: 'dry-run-failed', detail: { manifest: p.target, message } };
        }
      });
    },
  };
}

/** `admits(pods/compliant.yaml) == true`: the API server would create the manifest's object. */
export const admitsProbe = admissionProbe('admits', "whether the API server admits a manifest's object, through a dry-run create, at every change");

/** `denies(pods/privileged.yaml) == true`: the API server refuses the manifest's object, with its message. */
export const deniesProbe = admissionProbe('denies', "whether the API server refuses a manifest's object, through a dry-run create, at every change");
