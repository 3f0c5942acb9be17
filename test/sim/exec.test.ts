import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { eventually } from '../support/eventually.js';
import { kubectlBinary, whileForwarding } from '../support/kubectl.js';
import { spdyRemoteCommand } from '../support/spdy-client.js';
import { isReady, startSim, type SimClients } from './sim-fixture.js';

const NS = 'default';
const MiB = 1024 * 1024;

interface ExecRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: k8s.V1Status;
}

function sink(into: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      into(chunk.toString('utf8'));
      done();
    },
  });
}

/** One command through client-node's Exec, resolved with the Status from the error channel. */
function execIn(kc: k8s.KubeConfig, pod: string, container: string, command: string[], input?: { stdin: string[]; tty: boolean }): Promise<ExecRun> {
  let stdout = '';
  let stderr = '';
  const stdin = input ? Readable.from(input.stdin.map((s) => Buffer.from(s))) : null;
  return new Promise<ExecRun>((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(NS, pod, container, command, sink((t) => (stdout += t)), sink((t) => (stderr += t)), stdin, input?.tty ?? false, (status) => resolve({ stdout, stderr, status }))
      .catch(reject);
  });
}

function exitCodeOf(status: k8s.V1Status): number {
  if (status.status === 'Success') return 0;
  expect(status.reason).to.equal('NonZeroExitCode');
  return Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message);
}

/** `df -B1 --output=size,used,avail,target <path>` parsed into numbers. */
function dfBytes(stdout: string): { size: number; used: number; avail: number; target: string } {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).to.match(/^\s*1B-blocks\s+Used\s+Avail\s+Mounted on$/);
  const [size, used, avail, target] = lines[1]!.trim().split(/\s+/);
  return { size: Number(size), used: Number(used), avail: Number(avail), target: target! };
}

function podWithVolume(name: string, node: string, volumes: k8s.V1Volume[], mounts: k8s.V1VolumeMount[], extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      volumes,
      containers: [{ name: 'app', image: 'gameday/web:1', ports: [{ name: 'http', containerPort: 8080 }], volumeMounts: mounts, env: [{ name: 'GREETING', value: 'hello' }] }],
      ...extra,
    },
  };
}

async function readyPod(sim: SimClients, body: k8s.V1Pod): Promise<void> {
  await sim.core.createNamespacedPod({ namespace: NS, body });
  await eventually(`pod ${body.metadata!.name} Ready`, async () => isReady(await sim.core.readNamespacedPod({ namespace: NS, name: body.metadata!.name! })));
}

describe('sim: pods/exec, pods/log and pods/proxy', function () {
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async function () {
    sim = await startSim();
    kc = sim.kubeConfig;
    await readyPod(sim, podWithVolume('shell', 'gameday-worker', [{ name: 'data', emptyDir: { sizeLimit: '100Mi' } }, { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } }], [{ name: 'data', mountPath: '/data' }, { name: 'scratch', mountPath: '/scratch' }]));
  });

  after(async function () {
    await sim?.cluster.stop();
  });

  describe('exec over WebSocket with client-node', function () {
    it('runs a program and reports success on the status channel', async function () {
      const r = await execIn(kc, 'shell', 'app', ['echo', 'hi', 'there']);
      expect(r.stdout).to.equal('hi there\n');
      expect(r.stderr).to.equal('');
      expect(r.status).to.deep.equal({ metadata: {}, status: 'Success' });
    });

    it('reports non-zero exit codes as NonZeroExitCode with the code in the ExitCode cause', async function () {
      expect(exitCodeOf((await execIn(kc, 'shell', 'app', ['sh', '-c', 'exit 3'])).status)).to.equal(3);
      expect(exitCodeOf((await execIn(kc, 'shell', 'app', ['false'])).status)).to.equal(1);
      const chained = await execIn(kc, 'shell', 'app', ['sh', '-c', "true && false || echo 'recovered after false'; echo \"$GREETING from $HOSTNAME\""]);
      expect(chained.stdout).to.equal('recovered after false\nhello from shell\n');
      expect(exitCodeOf(chained.status)).to.equal(0);
    });

    it('separates stderr, and a missing command exits 127 inside sh', async function () {
      const r = await execIn(kc, 'shell', 'app', ['sh', '-c', 'echo oops >&2; nosuchtool --flag; echo after']);
      expect(r.stderr).to.equal('oops\nsh: nosuchtool: not found\n');
      expect(r.stdout).to.equal('after\n');
      const missing = await execIn(kc, 'shell', 'app', ['sh', '-c', 'ls /nowhere']);
      expect(missing.stderr).to.equal("ls: cannot access '/nowhere': No such file or directory\n");
      expect(exitCodeOf(missing.status)).to.equal(2);
      expect(exitCodeOf((await execIn(kc, 'shell', 'app', ['sh', '-c', 'nosuchtool'])).status)).to.equal(127);
    });

    it('fails to start an executable that is not in the image, as the runtime does', async function () {
      const r = await execIn(kc, 'shell', 'app', ['nosuchtool']);
      expect(r.status.status).to.equal('Failure');
      expect(r.status.reason).to.equal('InternalError');
      expect(r.status.message).to.contain('executable file not found in $PATH');
    });

    it('feeds stdin to the command, and runs a terminal shell line by line', async function () {
      expect((await execIn(kc, 'shell', 'app', ['cat'], { stdin: ['piped ', 'input'], tty: false })).stdout).to.equal('piped input');
      const script = await execIn(kc, 'shell', 'app', ['sh'], { stdin: ['echo first\nhostname\n', 'exit 5\n'], tty: false });
      expect(script.stdout).to.equal('first\nshell\n');
      expect(exitCodeOf(script.status)).to.equal(5);
      const terminal = await execIn(kc, 'shell', 'app', ['sh'], { stdin: ['echo hi\r', 'ls /nope\r', 'exit\r'], tty: true });
      expect(terminal.stdout).to.equal("# echo hi\r\nhi\r\n# ls /nope\r\nls: cannot access '/nope': No such file or directory\r\n# exit\r\n");
      expect(exitCodeOf(terminal.status)).to.equal(2);
    });

    it('ends a running exec with 137 when its container is killed', async function () {
      await readyPod(sim, podWithVolume('doomed', 'gameday-worker', [], []));
      const running = execIn(kc, 'doomed', 'app', ['sh', '-c', 'echo started; sleep 30; echo never']);
      await new Promise((r) => setTimeout(r, 200));
      await sim.core.deleteNamespacedPod({ namespace: NS, name: 'doomed', gracePeriodSeconds: 0 });
      const r = await running;
      expect(r.stdout).to.equal('started\n');
      expect(exitCodeOf(r.status)).to.equal(137);
    });

    it('shows an emptyDir sizeLimit in df, fills it with fallocate and frees it with rm', async function () {
      const before = dfBytes((await execIn(kc, 'shell', 'app', ['df', '-B1', '--output=size,used,avail,target', '/data'])).stdout);
      expect(before).to.deep.equal({ size: 100 * MiB, used: 0, avail: 100 * MiB, target: '/data' });
      const nodeBefore = sim.cluster.nodeFaults.filesystem('gameday-worker').usedBytes;
      const fill = await execIn(kc, 'shell', 'app', ['sh', '-c', 'df -P -k /data && fallocate -l 40M /data/gameday-fill-1 && df -B1 --output=size,used,avail,target /data']);
      expect(exitCodeOf(fill.status)).to.equal(0);
      const [posix, filled] = fill.stdout.split(/\n(?=\s*1B-blocks)/) as [string, string];
      expect(posix.split('\n')[0]).to.match(/^Filesystem\s+1024-blocks\s+Used\s+Available\s+Capacity\s+Mounted on$/);
      expect(posix.split('\n')[1]).to.match(/\s102400\s+0\s+102400\s+0%\s+\/data$/);
      expect(dfBytes(filled)).to.deep.equal({ size: 100 * MiB, used: 40 * MiB, avail: 60 * MiB, target: '/data' });
      expect(sim.cluster.nodeFaults.filesystem('gameday-worker').usedBytes - nodeBefore).to.equal(40 * MiB);
      expect((await execIn(kc, 'shell', 'app', ['ls', '-l', '/data'])).stdout).to.match(/-rw-r--r-- 1 root root\s+41943040 .* gameday-fill-1\n/);
      const freed = await execIn(kc, 'shell', 'app', ['sh', '-c', 'rm -f /data/gameday-fill-*; df -B1 --output=size,used,avail,target /data']);
      expect(dfBytes(freed.stdout).used).to.equal(0);
      expect(sim.cluster.nodeFaults.filesystem('gameday-worker').usedBytes).to.equal(nodeBefore);
    });

    it('keeps a memory-backed emptyDir to its size: writing past it fails with ENOSPC', async function () {
      const r = await execIn(kc, 'shell', 'app', ['sh', '-c', 'dd if=/dev/zero of=/scratch/blob bs=1M count=20; stat -c %s /scratch/blob; df -h /scratch']);
      expect(exitCodeOf(r.status)).to.equal(0);
      expect(r.stderr).to.contain("dd: error writing '/scratch/blob': No space left on device");
      expect(r.stdout).to.match(/^8388608\nFilesystem\s+Size\s+Used\s+Avail\s+Use%\s+Mounted on\ntmpfs\s+8\.0M\s+8\.0M\s+0\s+100%\s+\/scratch\n$/);
    });

    it('writes and reads files through redirections, pipes and globs', async function () {
      const r = await execIn(kc, 'shell', 'app', ['sh', '-c', 'mkdir -p /tmp/a/b && echo one > /tmp/a/b/x.txt && echo two >> /tmp/a/b/x.txt && cat /tmp/a/b/*.txt | wc -l && test -e /tmp/a/b/x.txt && cat /etc/hostname']);
      expect(r.stdout).to.equal('2\nshell\n');
    });

    it('evicts the pod when its emptyDir grows past sizeLimit, and gives the space back', async function () {
      await readyPod(sim, podWithVolume('overfill', 'gameday-worker2', [{ name: 'data', emptyDir: { sizeLimit: '10Mi' } }], [{ name: 'data', mountPath: '/data' }]));
      const nodeBefore = sim.cluster.nodeFaults.filesystem('gameday-worker2').usedBytes;
      expect(exitCodeOf((await execIn(kc, 'overfill', 'app', ['fallocate', '-l', '20M', '/data/big'])).status)).to.equal(0);
      const evicted = await eventually('overfill evicted', async () => {
        const p = await sim.core.readNamespacedPod({ namespace: NS, name: 'overfill' });
        return p.status?.reason === 'Evicted' ? p : undefined;
      });
      expect(evicted.status?.phase).to.equal('Failed');
      expect(evicted.status?.message).to.contain('Usage of EmptyDir volume "data" exceeds the limit "10Mi"');
      expect(sim.cluster.nodeFaults.filesystem('gameday-worker2').usedBytes).to.equal(nodeBefore);
    });

    it('fills the node from inside a pod: DiskPressure, then the filling pod is evicted and the pressure clears', async function () {
      const node = 'gameday-worker3';
      await readyPod(sim, podWithVolume('filler', node, [], []));
      await readyPod(sim, podWithVolume('bystander', node, [], []));
      const r = await execIn(kc, 'filler', 'app', ['sh', '-c', 'fallocate -l 65G /var/tmp/fill && df -h /']);
      expect(exitCodeOf(r.status)).to.equal(0);
      expect(r.stdout).to.match(/overlay\s+100G\s+95G\s+5\.0G\s+95%\s+\/\n/);
      await eventually('DiskPressure on the node', async () => {
        const n = await sim.core.readNode({ name: node });
        return n.status?.conditions?.find((c) => c.type === 'DiskPressure')?.status === 'True';
      });
      const evicted = await eventually('filler evicted', async () => {
        const p = await sim.core.readNamespacedPod({ namespace: NS, name: 'filler' });
        return p.status?.reason === 'Evicted' ? p : undefined;
      });
      expect(evicted.status?.message).to.contain('The node was low on resource: ephemeral-storage.');
      await eventually('DiskPressure cleared', async () => {
        const n = await sim.core.readNode({ name: node });
        return n.status?.conditions?.find((c) => c.type === 'DiskPressure')?.status === 'False';
      });
      const bystander = await sim.core.readNamespacedPod({ namespace: NS, name: 'bystander' });
      expect(bystander.status?.phase).to.equal('Running');
    });

    it('refuses unknown pods, unknown containers and containers that are not running', async function () {
      const refusal = async (pod: string, container: string): Promise<string> => {
        try {
          await execIn(kc, pod, container, ['true']);
        } catch (err) {
          return String((err as { message?: string }).message ?? err);
        }
        throw new Error('exec was accepted');
      };
      expect(await refusal('no-such-pod', 'app')).to.contain('404');
      expect(await refusal('shell', 'no-such-container')).to.contain('400');
      await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'done' }, spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox:1.36', command: ['true'] }] } } });
      await eventually('pod done Succeeded', async () => (await sim.core.readNamespacedPod({ namespace: NS, name: 'done' })).status?.phase === 'Succeeded');
      expect(await refusal('done', 'job')).to.contain('400');
      const stopped = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/done/exec?command=true&stdout=true`);
      expect(stopped.status).to.equal(400);
      expect(((await stopped.json()) as { message: string }).message).to.equal('container not found ("job"): the container is not running');
      const plain = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell/exec?command=true&stdout=true`);
      expect(plain.status).to.equal(400);
      expect(((await plain.json()) as { message: string }).message).to.equal('Upgrade request required');
    });
  });

  describe('log, proxy and discovery', function () {
    it('serves the container log with tailLines and timestamps', async function () {
      await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/hello?x=1`);
      const all = await (await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell/log`)).text();
      expect(all).to.match(/^gameday\/web:1 starting, listening on :8080\n/);
      expect(all).to.contain('"GET /hello?x=1 HTTP/1.1" 200');
      const last = await (await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell/log?tailLines=1&timestamps=true`)).text();
      expect(last).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z "GET \/hello\?x=1 HTTP\/1\.1" 200 \d+ "[^"]*"\n$/);
    });

    it('proxies to the pod through the data plane, so a NetworkPolicy that denies ingress cuts it', async function () {
      const ok = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/`);
      expect(ok.status).to.equal(200);
      expect(((await ok.json()) as { pod: string }).pod).to.equal('shell');
      await sim.networking.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: 'deny-shell' }, spec: { podSelector: { matchLabels: { app: 'shell' } }, policyTypes: ['Ingress'] } } });
      try {
        const denied = await eventually('proxy cut by the policy', async () => {
          const r = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/`);
          return r.status === 503 ? r : undefined;
        });
        expect(((await denied.json()) as { message: string }).message).to.contain('i/o timeout');
      } finally {
        await sim.networking.deleteNamespacedNetworkPolicy({ namespace: NS, name: 'deny-shell' });
      }
      const missing = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/nope:8080/proxy/`);
      expect(missing.status).to.equal(404);
    });

    it('serves a browser a small page at /, and any other client the JSON echo', async function () {
      const page = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/`, { headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(await page.text()).to.match(/<strong id="pod">shell<\/strong> in namespace default, on node gameday-worker\d?/);
      const echo = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/`);
      expect(await echo.json()).to.include({ pod: 'shell', path: '/' });
    });

    it('lists pods/exec, pods/log and pods/proxy in /api/v1 with their verbs', async function () {
      const list = (await (await fetch(`${sim.cluster.url}/api/v1`)).json()) as { resources: { name: string; kind: string; verbs: string[] }[] };
      const byName = new Map(list.resources.map((r) => [r.name, r]));
      expect(byName.get('pods/exec')).to.include({ kind: 'PodExecOptions' }).and.to.have.property('verbs').that.deep.equals(['create', 'get']);
      expect(byName.get('pods/log')).to.include({ kind: 'Pod' }).and.to.have.property('verbs').that.deep.equals(['get']);
      expect(byName.get('pods/proxy')).to.include({ kind: 'PodProxyOptions' }).and.to.have.property('verbs').that.deep.equals(['create', 'delete', 'get', 'patch', 'update']);
    });
  });

  describe('exec over SPDY, as the kubelet serves it', function () {
    it('serves the older SPDY remotecommand protocols as the kubelet does: v3 to v1 send a failure as its message alone, and nothing for success', async function () {
      const url = (command: string[]) => `${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell/exec?${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&stdin=true&stdout=true&stderr=true`;
      const failing = ['sh', '-c', 'read line; echo "got $line"; echo oops >&2; exit 3'];
      for (const protocol of ['v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']) {
        const r = await spdyRemoteCommand(url(failing), protocol, ['error', 'stdin', 'stdout', 'stderr'], 'typed\n');
        expect(r.protocol).to.equal(protocol);
        expect(r.received).to.deep.equal({ stdout: 'got typed\n', stderr: 'oops\n', error: 'command terminated with non-zero exit code: error executing command [sh -c read line; echo "got $line"; echo oops >&2; exit 3], exit code 3' });
      }
      const ok = await spdyRemoteCommand(url(['true']), 'v3.channel.k8s.io', ['error', 'stdin', 'stdout', 'stderr']);
      expect(ok.received).to.deep.equal({});
      const v4 = await spdyRemoteCommand(url(['true']), 'v4.channel.k8s.io', ['error', 'stdin', 'stdout', 'stderr']);
      expect(JSON.parse(v4.received.error!)).to.deep.equal({ metadata: {}, status: 'Success' });
    });

    it('an exec over SPDY names what the server speaks when no protocol is shared', async function () {
      const refused = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
        const req = request(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell/exec?command=true&stdout=true`, { headers: { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v9.channel.k8s.io' } });
        req.on('response', (res) => void text(res).then((body) => resolve({ ...(res.statusCode !== undefined ? { status: res.statusCode } : {}), body }), reject));
        req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
        req.on('error', reject);
        req.end();
      });
      expect(refused.status).to.equal(403);
      expect((JSON.parse(refused.body) as { message: string }).message).to.equal('unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]');
    });
  });

  describe('real kubectl', function () {
    let dir: string;
    const kubectl = (args: string[], bin = 'kubectl', input?: string) =>
      execa(bin, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: false, timeout: 30_000, ...(input !== undefined ? { input } : {}) });

    before(async function () {
      try {
        execaSync('kubectl', ['version', '--client']);
      } catch {
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'gameday-exec-'));
      await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    });

    after(function () {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('kubectl exec runs the command and returns its exit code', async function () {
      const hi = await kubectl(['exec', 'shell', '--', 'echo', 'hi']);
      expect(hi.exitCode).to.equal(0);
      expect(hi.stdout).to.equal('hi');
      const failed = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo bad >&2; exit 4']);
      expect(failed.exitCode).to.equal(4);
      expect(failed.stderr).to.contain('bad');
    });

    it('kubectl exec -i feeds stdin to sh', async function () {
      const r = await kubectl(['exec', '-i', 'shell', '--', 'sh'], 'kubectl', 'echo from stdin; ls /data\n');
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('from stdin');
    });

    it('kubectl logs prints the container log', async function () {
      const r = await kubectl(['logs', 'shell', '--tail=50']);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('gameday/web:1 starting, listening on :8080');
    });

    it('kubectl cp copies a directory into a container and back, through tar in its shell', async function () {
      const local = join(dir, 'up');
      mkdirSync(join(local, 'sub'), { recursive: true });
      writeFileSync(join(local, 'a.txt'), 'hello\n');
      writeFileSync(join(local, 'sub', 'b.txt'), 'deep\n');
      const up = await kubectl(['cp', local, `${NS}/shell:/tmp/up`]);
      expect(up.exitCode, up.stderr).to.equal(0);
      expect((await kubectl(['exec', 'shell', '--', 'cat', '/tmp/up/sub/b.txt'])).stdout).to.equal('deep');
      const down = await kubectl(['cp', `${NS}/shell:/tmp/up`, join(dir, 'down')]);
      expect(down.exitCode, down.stderr).to.equal(0);
      expect(readFileSync(join(dir, 'down', 'a.txt'), 'utf8')).to.equal('hello\n');
      expect(readFileSync(join(dir, 'down', 'sub', 'b.txt'), 'utf8')).to.equal('deep\n');
      const missing = await kubectl(['cp', `${NS}/shell:/tmp/nothing`, join(dir, 'none')]);
      expect(missing.exitCode).to.not.equal(0);
    });

    it('kubectl port-forward reaches the pod through the data plane, answers bytes that are not HTTP as an HTTP server does, and names a port nothing listens on', async function () {
      const env = { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir };
      const forward = async (port: number, target: number, path: string, more?: () => Promise<void>): Promise<{ body?: string; log: string }> => {
        const { result: body, log } = await whileForwarding('kubectl', ['pod/shell', `${port}:${target}`], env, async (printed) => {
          const answer = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text(), () => undefined);
          await eventually('the forward settled', () => answer !== undefined || /error/.test(printed()), 5_000).catch(() => undefined);
          await more?.();
          return answer;
        });
        return { ...(body !== undefined ? { body } : {}), log };
      };
      let notHttp = '';
      const open = await forward(18731, 8080, '/through-the-forward', async () => {
        // The pod's port is an HTTP server: a client speaking another protocol is told so, and let go.
        notHttp = await new Promise<string>((resolve, reject) => {
          const socket = connect(18731, '127.0.0.1', () => socket.write('\x16\x03\x01\x00\x05 not http\r\n\r\n'));
          let answer = '';
          socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        });
      });
      expect(JSON.parse(open.body!)).to.include({ pod: 'shell', path: '/through-the-forward' });
      expect(notHttp).to.equal('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      const closed = await forward(18732, 9999, '/');
      expect(closed.body).to.equal(undefined);
      expect(closed.log).to.contain('error forwarding port 9999 to pod shell: failed to connect to localhost:9999 inside namespace of pod shell');
    });

    it("kubectl attach streams the container's output from then on", async function () {
      const child = execa('kubectl', ['attach', 'shell'], { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: false, all: true });
      let out = '';
      child.all!.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await eventually('attached', () => out.includes("If you don't see a command prompt"), 15_000);
        await eventually('the request in the attached output', async () => {
          await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/shell:8080/proxy/attached-marker`);
          return out.includes('"GET /attached-marker HTTP/1.1" 200');
        }, 10_000);
      } finally {
        child.kill();
        await child;
      }
    });

    it('kubectl get --raw reaches the pod through pods/proxy', async function () {
      const r = await kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/pods/shell:8080/proxy/`]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.include({ pod: 'shell', path: '/' });
    });

    for (const version of ['1.27', '1.29']) {
      it(`kubectl ${version} execs over SPDY: output, stdin and the exit code`, async function () {
        const bin = kubectlBinary(version);
        if (!bin || !existsSync(bin)) this.skip();
        const hi = await kubectl(['exec', 'shell', '--', 'echo', 'hi'], bin);
        expect([hi.exitCode, hi.stdout, hi.stderr]).to.deep.equal([0, 'hi', '']);
        const piped = await kubectl(['exec', '-i', 'shell', '--', 'sh'], bin, 'echo from stdin; cat /etc/hostname\n');
        expect([piped.exitCode, piped.stdout], piped.stderr).to.deep.equal([0, 'from stdin\nshell']);
        const failed = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'echo bad >&2; exit 3'], bin);
        expect([failed.exitCode, failed.stdout]).to.deep.equal([3, '']);
        expect(failed.stderr).to.match(/^bad\ncommand terminated with exit code 3$/);
      });
    }

    /** kubectl 1.29 in a terminal (`script` gives it one), typing `lines` one at a time once `ready` is on the screen. */
    const inTerminal = async (args: string, ready: string, lines: readonly [string, string][]): Promise<{ exitCode: number | undefined; screen: string }> => {
      const bin = kubectlBinary('1.29');
      if (!bin || !existsSync(bin) || !existsSync('/usr/bin/script')) return { exitCode: undefined, screen: '' };
      const child = execa('/usr/bin/script', ['-qec', `${bin} ${args}`, '/dev/null'], { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir, TERM: 'dumb' }, reject: false, stdin: 'pipe' });
      let screen = '';
      child.stdout!.on('data', (d: Buffer) => (screen += d.toString()));
      try {
        await eventually(`${ready} on the screen`, () => screen.includes(ready), 15_000);
        for (const [line, answer] of lines) {
          child.stdin!.write(line);
          await eventually(`${answer} on the screen`, () => screen.includes(answer), 10_000);
        }
      } finally {
        child.stdin!.end();
      }
      return { exitCode: (await child).exitCode, screen };
    };

    it('kubectl 1.29 exec -it runs a terminal shell over SPDY', async function () {
      const r = await inTerminal('exec -it shell -- sh', '# ', [['echo tty $((1+1))\r', 'tty 2\r\n# '], ['exit 4\r', 'command terminated with exit code 4']]);
      if (r.exitCode === undefined) this.skip();
      expect(r.exitCode).to.equal(4);
      expect(r.screen).to.equal('# echo tty $((1+1))\r\ntty 2\r\n# exit 4\r\ncommand terminated with exit code 4\r\n');
    });

    it('kubectl 1.29 attach -it reaches the terminal shell of a stdin and tty container; its exit ends the session', async function () {
      await readyPod(sim, { metadata: { name: 'term' }, spec: { nodeName: 'gameday-worker', restartPolicy: 'Never', containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sh'], stdin: true, tty: true }] } });
      const r = await inTerminal('attach -it term', 'try pressing enter', [['echo attached $((2+3))\r', 'attached 5\r\n# '], ['exit 3\r', 'exit 3\r\n']]);
      if (r.exitCode === undefined) this.skip();
      expect(r.exitCode).to.equal(0);
      const done = await eventually('term terminated', async () => (await sim.core.readNamespacedPod({ namespace: NS, name: 'term' })).status?.containerStatuses?.[0]?.state?.terminated);
      expect(done.exitCode).to.equal(3);
    });

    describe('kubectl attach -i to a container started with stdin: true', function () {
      const attach = (pod: string, bin: string) => {
        const child = execa(bin, ['attach', '-i', pod], { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: false, stdin: 'pipe' });
        const seen = { stdout: '', stderr: '' };
        child.stdout!.on('data', (d: Buffer) => (seen.stdout += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (seen.stderr += d.toString()));
        return { child, seen };
      };

      before(async function () {
        await readyPod(sim, { metadata: { name: 'typist' }, spec: { nodeName: 'gameday-worker', terminationGracePeriodSeconds: 0, containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sh'], stdin: true }] } });
      });

      for (const version of ['default', '1.29']) {
        it(`kubectl ${version === 'default' ? '(current)' : version} types into its sh, sees the output, and detaches when its input ends`, async function () {
          const bin = kubectlBinary(version);
          if (!bin || !existsSync(bin)) this.skip();
          const { child, seen } = attach('typist', bin);
          try {
            await eventually('attached', () => seen.stderr.includes("If you don't see a command prompt"), 15_000);
            child.stdin!.write(`echo typed by ${version} $((6*7)); echo to stderr >&2\n`);
            await eventually('the command ran in the attached shell', () => seen.stdout === `typed by ${version} 42\n` && seen.stderr.endsWith('to stderr\n'), 10_000);
          } finally {
            child.stdin!.end();
          }
          const r = await child;
          expect(r.exitCode, seen.stderr).to.equal(0);
        });
      }

      it('keeps the stdin open between clients, so the shell lives on and its log has what was typed', async function () {
        const pod = await sim.core.readNamespacedPod({ namespace: NS, name: 'typist' });
        expect(pod.status?.containerStatuses?.[0]?.restartCount).to.equal(0);
        expect(pod.status?.phase).to.equal('Running');
        expect((await kubectl(['logs', 'typist'])).stdout).to.contain('typed by default 42');
      });

      it('kubectl run -i --rm: the pod it makes (stdin and stdinOnce) runs the piped script, its exit code is kubectl\'s, and the pod is deleted', async function () {
        const r = await kubectl(['run', '-i', '--rm', '--image=busybox:1.36', '--restart=Never', 'runner', '--', 'sh'], 'kubectl', 'echo from run $((3*3))\nexit 5\n');
        expect(r.exitCode, r.stderr).to.equal(5);
        expect(r.stdout).to.equal('from run 9\npod "runner" deleted');
        expect(r.stderr).to.contain('pod default/runner terminated (Error)');
      });

      it('stdinOnce: the end of the first input closes the stdin, and sh exits with its last status', async function () {
        await readyPod(sim, { metadata: { name: 'once' }, spec: { nodeName: 'gameday-worker', restartPolicy: 'Never', containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sh'], stdin: true, stdinOnce: true }] } });
        const r = await kubectl(['attach', '-i', 'once'], 'kubectl', 'echo bye; false\n');
        expect(r.exitCode, r.stderr).to.equal(0);
        expect(r.stdout).to.equal('bye');
        const done = await eventually('once terminated', async () => (await sim.core.readNamespacedPod({ namespace: NS, name: 'once' })).status?.containerStatuses?.[0]?.state?.terminated);
        expect(done.exitCode).to.equal(1);
      });
    });
  });
});
