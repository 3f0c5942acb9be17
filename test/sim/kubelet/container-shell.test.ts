import { expect } from 'chai';
import { ContainerShell, type ImageProgram } from '../../../src/sim/kubelet/container-shell.js';
import { NodeFilesystem } from '../../../src/sim/kubelet/node-filesystem.js';
import { PodStorage } from '../../../src/sim/kubelet/pod-storage.js';
import type { StoredObject } from '../../../src/sim/store.js';

const GiB = 1024 ** 3;

function pod(): StoredObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-1', resourceVersion: '1', creationTimestamp: '' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as StoredObject;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `sh -c` in a fresh container, as the kubelet runs a container command. */
async function sh(script: string, extra: { imageProgram?: ImageProgram; args?: string[]; signal?: AbortSignal; stdin?: string } = {}): Promise<Run> {
  const storage = new PodStorage({ pod: pod(), node: new NodeFilesystem(10 * GiB, GiB), memoryBytes: GiB, configMap: () => undefined });
  const fs = storage.containerFilesystem('c', [], 'p');
  const shell = new ContainerShell({ fs, env: new Map([['HOME', '/root'], ['PATH', '/bin']]), hostname: 'p', ...(extra.imageProgram ? { imageProgram: extra.imageProgram } : {}) });
  let stdout = '';
  let stderr = '';
  const chunks = extra.stdin === undefined ? undefined : [Buffer.from(extra.stdin)];
  const outcome = await shell.exec(['sh', '-c', script, ...(extra.args ?? [])], {
    stdout: (d) => (stdout += d.toString()),
    stderr: (d) => (stderr += d.toString()),
    ...(chunks ? { stdin: { read: () => Promise.resolve(chunks.shift()) } } : {}),
  }, extra.signal ?? new AbortController().signal);
  return { code: outcome.kind === 'exited' ? outcome.code : -1, stdout, stderr };
}

describe('sim kubelet: the container shell', () => {
  it('decides the status by what runs, not by an `exit` somewhere in the text', async () => {
    expect((await sh('test -f /x || exit 1')).code).to.equal(1);
    expect((await sh('touch /x; test -f /x || exit 1')).code).to.equal(0);
    expect((await sh('true || exit 3; echo reached')).stdout).to.equal('reached\n');
    expect((await sh('[ -d /etc ] && exit 0; exit 9')).code).to.equal(0);
  });

  it('runs if/elif/else, while, until, for and case', async () => {
    const r = await sh(`
      n=0
      while [ "$n" -lt 3 ]; do n=$((n + 1)); done
      until test $n -eq 5; do n=$(expr $n + 1); done
      for f in a "b c" d; do printf '<%s>' "$f"; done; echo
      if [ $n -eq 4 ]; then echo four; elif [ $n -eq 5 ]; then echo five; else echo other; fi
      case "$n" in 1|2) echo small;; [4-9]) echo big;; *) echo huge;; esac
    `);
    expect(r.stdout).to.equal('<a><b c><d>\nfive\nbig\n');
    expect(r.code).to.equal(0);
  });

  it('loops on a never-true condition until the container is killed', async () => {
    const kill = new AbortController();
    setTimeout(() => kill.abort(), 300).unref();
    const started = Date.now();
    const r = await sh('until test -f /ready; do echo waiting; sleep 0.05; done; echo done', { signal: kill.signal });
    expect(Date.now() - started).to.be.at.least(250);
    expect(r.code).to.equal(137);
    expect(r.stdout).to.match(/^(waiting\n){3,}$/);
  });

  it('expands parameters, command substitution, arithmetic, and splits unquoted expansions', async () => {
    const r = await sh('A="x y"; set -- $A; echo $# ${B:-dflt} ${A#x } ${#A} $(echo sub) "$(printf "%03d" 7)" $((2*3+1)); V=file.tar.gz; echo ${V%.*} ${V%%.*} ${V##*.}');
    expect(r.stdout).to.equal('2 dflt y 3 sub 007 7\nfile.tar file gz\n');
    expect((await sh('S=; test $S -ne 200')).code).to.equal(2);
    expect((await sh('echo "$0 $1 $2"', { args: ['name', 'one', 'two'] })).stdout).to.equal('name one two\n');
  });

  it('stops at the first failure under set -e, but not in conditions, and traces with -x', async () => {
    const r = await sh('set -ex; if false; then :; fi; false || true; ! false; echo before; false; echo after');
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('before\n');
    expect(r.stderr).to.contain('+ echo before\n');
  });

  it('has functions, here-documents, pipes, subshells, read loops and traps on exit', async () => {
    const r = await sh(`greet() { echo "hi $1"; return 3; }
greet you; echo "status $?"
cat <<EOF | grep two
one $HOME
two $HOME
EOF
(cd /tmp; pwd); pwd
printf 'a 1\\nb 2\\n' | while read k v; do echo "$v=$k"; done
trap 'echo bye' EXIT
exit 4`);
    expect(r.stdout).to.equal('hi you\nstatus 3\ntwo /root\n/tmp\n/\n1=a\n2=b\nbye\n');
    expect(r.code).to.equal(4);
  });

  it('reports syntax errors with status 2', async () => {
    const r = await sh('if true; then echo x');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^sh: syntax error: unexpected end of file/);
  });

  it('hands programs it does not know to the image, in a container; exec finds none', async () => {
    const seen: string[][] = [];
    const r = await sh('echo starting; exec /app/server --port 8080', { imageProgram: async (argv) => (seen.push([...argv]), 5) });
    expect(seen).to.deep.equal([['/app/server', '--port', '8080']]);
    expect(r.code).to.equal(5);
    expect((await sh('/app/server')).code).to.equal(127);
  });

  it('parses awk, seq, cut and tr the way one-liners use them', async () => {
    const r = await sh(`printf '  HTTP/1.1 200 OK\\n  Server: x\\n' | awk '/^  HTTP/{print $2}'; seq 3 | tr '\\n' ' '; echo; echo a:b:c | cut -d: -f2`);
    expect(r.stdout).to.equal('200\n1 2 3 \nb\n');
  });
});
