export interface WebWorkloadOptions {
  readonly namespace: string;
  readonly replicas: number;
  /** Declare the Namespace first, as an experiment's workloads do. @default false */
  readonly withNamespace?: boolean;
  /** A Service web:80 in front of the pods. @default false */
  readonly withService?: boolean;
}

/** gameday's web server as a Deployment with a PodDisruptionBudget (maxUnavailable 1): the real-control-plane tests' workload. */
export function webWorkload(options: WebWorkloadOptions): string {
  const ns = options.namespace;
  const docs = [
    ...(options.withNamespace ? [`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`] : []),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${options.replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: gameday/web:1, ports: [{containerPort: 8080}]}]
`,
    `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${ns}}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
`,
    ...(options.withService ? [`apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n`] : []),
  ];
  return docs.join('---\n');
}
