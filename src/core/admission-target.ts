/**
 * What `denies(pods/privileged.yaml)` and `admits(pods/compliant.yaml)` name: a manifest file,
 * relative to the experiment file, holding the one object whose creation the API server is asked
 * to judge (a server-side dry run). The check language's arguments hold no spaces, commas or
 * parentheses, so neither does the path.
 */
export const ADMISSION_TARGET_PATTERN = /^[A-Za-z0-9_.][A-Za-z0-9_./-]*\.(ya?ml|json)$/;

export const ADMISSION_TARGET_DESCRIPTION = 'a manifest file relative to the experiment (.yaml, .yml or .json), like pods/privileged.yaml';
