/**
 * What `reachable(shop/frontend -> payments/db:5432)` asks: can a pod labelled app=frontend in
 * namespace shop open a TCP connection to port 5432 of Service db in namespace payments? A
 * destination is a Service (`payments/db:5432`) or one pod (`pod/payments/db-0:5432`).
 */
export interface ReachabilityDestination {
  readonly kind: 'service' | 'pod';
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** As written: `payments/db:5432`, `pod/payments/db-0:5432`. */
  readonly text: string;
}

export interface ReachabilityTarget {
  /** The source pods: those labelled `app=<app>` in `namespace`. */
  readonly source: { readonly namespace: string; readonly app: string };
  readonly destination: ReachabilityDestination;
  /** As written, normalised: `shop/frontend -> payments/db:5432`. */
  readonly text: string;
}

const NAME = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const DESTINATION = `(pod/)?${NAME}/${NAME}:[0-9]{1,5}`;
/** The shape of a destination, for checking a probe's parameters before anything runs. */
export const DESTINATION_PATTERN = new RegExp(`^${DESTINATION}$`);
/** The shape of the argument of reachable(), for checking a check before anything runs. */
export const REACHABILITY_TARGET_PATTERN = new RegExp(`^${NAME}/${NAME} -> ${DESTINATION}$`);

export function parseDestination(text: string): ReachabilityDestination {
  if (!DESTINATION_PATTERN.test(text)) throw new Error(`"${text}" is not a destination; write it as namespace/service:port or pod/namespace/name:port, like payments/db:5432`);
  const pod = text.startsWith('pod/');
  const [path, port] = (pod ? text.slice(4) : text).split(':') as [string, string];
  const [namespace, name] = path.split('/') as [string, string];
  const number = Number(port);
  if (number < 1 || number > 65535) throw new Error(`"${text}": port ${port} is not between 1 and 65535`);
  return { kind: pod ? 'pod' : 'service', namespace, name, port: number, text };
}

export function parseReachabilityTarget(text: string): ReachabilityTarget {
  if (!REACHABILITY_TARGET_PATTERN.test(text)) throw new Error(`"${text}" is not a path; write it as namespace/app -> namespace/service:port, like shop/frontend -> payments/db:5432`);
  const [from, to] = text.split(' -> ') as [string, string];
  const [namespace, app] = from.split('/') as [string, string];
  return { source: { namespace, app }, destination: parseDestination(to), text };
}
