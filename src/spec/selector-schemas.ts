import { z } from 'zod';
import { unlessMissing } from './value-schemas.js';

/**
 * How experiments pick Kubernetes objects, shared by the fault and probe plug-ins so every kind
 * selects nodes and pods the same way.
 */

/** Label maps: values are text in Kubernetes, so `zone: 1` must be quoted. */
export const labelsSchema = z
  .record(
    z.string(),
    z.string({
      error: unlessMissing((input) => (input === null || typeof input === 'object' ? 'a label value is text' : `a label value is text; quote it: "${String(input)}"`)),
    }),
  )
  .meta({ description: 'Labels as key: value text.' });

/** Nodes by name and/or labels; both given means both must match, none given means every node. */
export const nodeSelectorSchema = z
  .strictObject({
    names: z.array(z.string()).optional().meta({ description: 'Node names.' }),
    labels: labelsSchema.optional().meta({ description: 'Labels every chosen node carries.' }),
  })
  .meta({ description: 'Which nodes: by names, by labels, or both.' });

export type NodeSelector = z.output<typeof nodeSelectorSchema>;

/** Pods of one namespace, by labels and/or names. */
export const podSelectorSchema = z
  .strictObject({
    namespace: z.string().min(1).meta({ description: 'Namespace of the pods.' }),
    labels: labelsSchema.optional().meta({ description: 'Labels every chosen pod carries.' }),
    names: z.array(z.string()).optional().meta({ description: 'Pod names.' }),
  })
  .meta({ description: 'Which pods: a namespace, narrowed by labels or names.' });

export type PodSelector = z.output<typeof podSelectorSchema>;
