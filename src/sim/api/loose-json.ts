/**
 * A Kubernetes object as the API server handles it: JSON whose shape depends on its kind. The
 * server reads and defaults many optional nested fields of many kinds; typing each would
 * duplicate the Kubernetes API types without making these call sites any safer.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseJson = Record<string, any>;
