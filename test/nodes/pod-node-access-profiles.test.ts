import { expect } from 'chai';
import type { V1Pod } from '@kubernetes/client-node';
import type { ExecResult } from '../../src/nodes/node-access.js';
import { helperImageProblem, helperProfile, nodeAccessPod } from '../../src/nodes/pod-node-access.js';
import { ShellNodeAccess, type CommandNeed, type ExecOptions } from '../../src/nodes/shell-node-access.js';
import { runCli } from '../cli/cli-process.js';

/**
 * The pod node access grants each node fault only the host access its commands need: the
 * commands are the shared shell provider's own (iptables, tc, df, fallocate…), each saying what it
 * needs, and the helper pod for that need is what the API server is asked to run.
 */

/** The shared node commands, answered as a healthy node would, remembering what each needed. */
class RecordingNodeAccess extends ShellNodeAccess {
  readonly provider = 'netns' as const;
  readonly needs: (CommandNeed | undefined)[] = [];
  readonly commands: string[] = [];

  exec(_node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.needs.push(options.need);
    this.commands.push(argv[0]!);
    const stdout = argv[0] === 'df' ? '  1000000 400000 600000\n' : '';
    // A jump to check or delete is not there (once deleted, it is gone), as on a clean node.
    if (argv[0] === 'iptables' && ['-C', '-S', '-D'].includes(argv[2]!)) return Promise.resolve({ exitCode: 1, stdout: '', stderr: 'iptables: Bad rule (does a matching rule exist in that chain?).' });
    return Promise.resolve({ exitCode: 0, stdout, stderr: '' });
  }
}

/** The helper pods a fault's node operations would run in, one per distinct need. */
async function podsFor(operations: (access: RecordingNodeAccess) => Promise<unknown>): Promise<{ pods: V1Pod[]; commands: string[] }> {
  const access = new RecordingNodeAccess();
  await operations(access);
  const profiles = new Map(access.needs.map((n) => helperProfile(n)).map((p) => [JSON.stringify(p), p]));
  const pods = [...profiles.values()].map((profile) => nodeAccessPod('worker-1', { namespace: 'default', image: 'example.com/node-shell:1', name: 'helper', profile }));
  return { pods, commands: [...new Set(access.commands)] };
}

const NETWORK_CONTAINER = {
  securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] } },
};

describe('pod node access: each fault gets a helper pod with only the host access its commands need', () => {
  it('a node partition (iptables, then a TCP connect to verify, then removal) runs on the host network with NET_ADMIN and NET_RAW: not privileged, no hostPID', async () => {
    const { pods, commands } = await podsFor(async (a) => {
      await a.blockTraffic('worker-1', { id: 'part1', peers: ['172.18.0.2'], scope: 'other-nodes', direction: 'both' });
      await a.canReach('worker-1', { address: '172.18.0.2', port: 6443 });
      await a.unblockTraffic('worker-1', 'part1');
    });
    expect(commands).to.deep.equal(['iptables', 'timeout']);
    expect(pods).to.have.length(1);
    const spec = pods[0]!.spec!;
    expect(spec.hostNetwork).to.equal(true);
    expect(spec.hostPID).to.equal(undefined);
    expect(spec.volumes).to.equal(undefined);
    expect(spec.containers[0]).to.deep.include(NETWORK_CONTAINER);
    expect(pods[0]!.metadata!.annotations).to.include({ 'gameday.dev/node-access-profile': 'network' });
  });

  it('latency and packet loss (tc netem on the node address\'s interface, read back, removed) get the same network pod', async () => {
    const { pods, commands } = await podsFor(async (a) => {
      await a.shapeTraffic('worker-1', { id: 'slow1', delayMs: 200, jitterMs: 50, address: '172.18.0.3' });
      await a.isShaping('worker-1', 'slow1');
      await a.unshapeTraffic('worker-1', 'slow1');
      await a.shapeTraffic('worker-1', { id: 'loss1', lossPercent: 25 });
    });
    expect(commands).to.deep.equal(['ip', 'tc', 'iptables']);
    expect(pods.map((p) => p.metadata!.annotations!['gameday.dev/node-access-profile'])).to.deep.equal(['network']);
    expect(pods[0]!.spec!.containers[0]).to.deep.include(NETWORK_CONTAINER);
  });

  it('a node disk fill (df, fallocate, rm) mounts just that directory, at the same path, with no host namespace and no capability but DAC_OVERRIDE', async () => {
    const { pods, commands } = await podsFor(async (a) => {
      await a.diskUsage('worker-1', '/var/lib/data');
      await a.fillDisk('worker-1', { id: 'fill1', path: '/var/lib/data/', percent: 95 });
      await a.freeDisk('worker-1', { id: 'fill1', path: '/var/lib/data' });
    });
    expect(commands).to.deep.equal(['df', 'fallocate', 'rm']);
    expect(pods).to.have.length(1);
    const spec = pods[0]!.spec!;
    expect(spec).to.not.have.any.keys('hostNetwork', 'hostPID');
    expect(spec.volumes).to.deep.equal([{ name: 'node-path', hostPath: { path: '/var/lib/data', type: 'Directory' } }]);
    expect(spec.containers[0]).to.deep.include({
      volumeMounts: [{ name: 'node-path', mountPath: '/var/lib/data' }],
      securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] } },
    });
  });

  it('a node stress (stress-ng started, read back, stopped) runs in a pod with no host access at all, as Pod Security\'s restricted level allows', async () => {
    const { pods, commands } = await podsFor(async (a) => {
      await a.stress('worker-1', { id: 'cpu1', cpuMillicores: 1500, maxDurationMs: 60_000 });
      await a.isStressing('worker-1', 'cpu1');
      await a.unstress('worker-1', 'cpu1');
    });
    expect(commands).to.deep.equal(['sh']);
    expect(pods).to.have.length(1);
    const spec = pods[0]!.spec!;
    expect(spec).to.not.have.any.keys('hostNetwork', 'hostPID', 'volumes');
    expect(spec.containers[0]!.securityContext).to.deep.equal({
      runAsNonRoot: true,
      runAsUser: 65534,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0]!.resources).to.not.have.key('limits');
    expect(pods[0]!.metadata!.annotations).to.include({ 'gameday.dev/node-access-profile': 'process' });
  });

  it('only a fill of a path that mounting would hide the tools behind (/, /usr…), or a command that names no need, gets the privileged host pod (hostPID, for nsenter)', () => {
    for (const path of ['/', '/usr/local', '/etc']) expect(helperProfile({ kind: 'path', path }), path).to.deep.equal({ kind: 'host' });
    expect(helperProfile({ kind: 'path', path: '/var/lib/kubelet' })).to.deep.equal({ kind: 'path', path: '/var/lib/kubelet' });
    expect(helperProfile(undefined)).to.deep.equal({ kind: 'host' });
    const spec = nodeAccessPod('worker-1', { namespace: 'default', image: 'x', name: 'helper', profile: helperProfile(undefined) }).spec!;
    expect(spec).to.include({ hostNetwork: true, hostPID: true });
    expect(spec.containers[0]!.securityContext).to.deep.equal({ privileged: true });
  });
});

describe('pod node access: the helper image, pinned by digest', () => {
  const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

  it('accepts a tag, a digest, or both, with a registry host and port', () => {
    for (const image of ['nicolaka/netshoot:v0.13', `nicolaka/netshoot@${DIGEST}`, `nicolaka/netshoot:v0.13@${DIGEST}`, `registry.example.com:5000/tools/node-shell@${DIGEST}`]) {
      expect(helperImageProblem(image), image).to.equal(undefined);
    }
  });

  it('names what is wrong with a digest that is not sha256 and 64 hex digits, or a reference that is no image', () => {
    expect(helperImageProblem('nicolaka/netshoot@sha256:abc')).to.equal('the digest "sha256:abc" is not sha256: followed by 64 lower-case hex digits (as `docker buildx imagetools inspect` or `crane digest` print it)');
    expect(helperImageProblem(`nicolaka/netshoot@md5:${'a'.repeat(64)}`)).to.match(/^the digest "md5:a+" is not sha256/);
    expect(helperImageProblem('Nicolaka/Netshoot')).to.match(/^not an image reference; write it as name\[:tag\], or pinned by digest as name@sha256:<64 hex digits>$/);
    expect(helperImageProblem(`netshoot@${DIGEST}@${DIGEST}`)).to.match(/^not an image reference/);
  });

  it('gameday refuses a bad --node-access-image before it touches a cluster (exit 2)', async function () {
    this.timeout(30_000);
    const r = await runCli(['plan', 'experiments/security/least-privilege.yaml', '--node-access-image', 'nicolaka/netshoot@sha256:abc']);
    expect(r.code, r.stdout + r.stderr).to.equal(2);
    expect(r.stderr).to.contain('--node-access-image nicolaka/netshoot@sha256:abc: the digest "sha256:abc" is not sha256: followed by 64 lower-case hex digits');
    expect(r.stderr).to.not.contain('starting the embedded cluster');
  });
});
