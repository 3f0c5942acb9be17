/**
 * Dotted paths into an experiment document, the way messages show them: `spec.faults[0].at`,
 * `spec.probes.web.http.timeout`. Keys that are not plain words are quoted: `metadata.labels["app.kubernetes.io/name"]`.
 */
export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** The inverse of formatPath; text it cannot read ends the path early, which locates the nearest parent. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const token = /\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  while (token.lastIndex < path.length) {
    const m = token.exec(path);
    if (!m) break;
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else segments.push(JSON.parse(m[3]!) as string);
  }
  return segments;
}
