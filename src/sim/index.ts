export { startEmbeddedCluster, KUBECONFIG_CONTEXT, type EmbeddedCluster, type EmbeddedClusterOptions } from './cluster.js';
export { DEFAULT_SIM_TIMINGS, type SimTimings } from './timings.js';
export { NodeFaults, NodeFaultError, parseNodeFault, type NodeFaultRecord, type NodeFaultSpec, type NodeFaultType, type FilesystemUsage } from './node-faults.js';
export { LOCAL_PORTS_CONFIGMAP } from './dataplane/service-listeners.js';
export { ObjectStore } from './store.js';
export { API_FAULT_KINDS, parseApiFaults, type ApiFaultKind, type ApiFaultSettings } from './api/api-faults.js';
