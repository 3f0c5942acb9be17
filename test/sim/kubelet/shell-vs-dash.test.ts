import { expect } from 'chai';
import { execaSync } from 'execa';
import { ContainerShell } from '../../../src/sim/kubelet/container-shell.js';
import { installed } from '../installed.js';
import { NodeFilesystem } from '../../../src/sim/kubelet/node-filesystem.js';
import { PodStorage } from '../../../src/sim/kubelet/pod-storage.js';
import type { StoredObject } from '../../../src/sim/store.js';

const GiB = 1024 ** 3;

/** Scripts of the kind manifests carry; each must print and exit exactly as Debian's /bin/sh (dash) does. */
const SCRIPTS: readonly string[] = [
  '# comment\necho a # trailing\necho "#notcomment" x#y',
  'for i in 1 2\ndo\n  echo $i\ndone',
  'while false\ndo :\ndone\necho end',
  'x="$(echo "a b" | tr " " "_")"; echo $x',
  'case "a b" in\n  "a b") echo spaced ;;\n  *) echo other\nesac',
  'f()\n{\n  echo in f\n}\nf',
  'echo a &&\n echo b ||\n echo c',
  'echo a | \n cat',
  'v=$(cat <<EOF\nline1\nline2\nEOF\n); echo "$v" | wc -l',
  'echo ${v:-$(echo sub)}',
  'echo "${v:-"quoted default"}"',
  'set -u; echo ${UNDEFINED:-ok}',
  'set -u; echo $UNDEFINED; echo notreached',
  'test 1 -eq 1; echo $?; test a -eq 1; echo $?',
  '[ ! -f /nope ] && echo absent',
  'exit',
  'export A="x  y" B=$A; echo "$B"; readonly R=$A; echo $R',
  'i=0; while [ $i -lt 3 ]; do echo $i; i=`expr $i + 1`; done',
  'x=; if [ -z "$x" ]; then echo unset; elif true; then echo no; else echo no; fi',
  'echo one >&2 2>/dev/null; echo two',
  'cd /tmp && pwd; cd - >/dev/null 2>&1; echo $?',
  'echo "${HOME}/x" ~ ~/y',
  'l="a b"; set -- $l; echo $2$1',
  'echo $(( $(echo 3) + 1 ))',
  'a=1 b=2; echo $a$b',
  'f() { return 4; }; f; echo $?; f && echo no || echo fails',
  'while read -r line; do echo "got $line"; done <<EOF\nl1\nl2\nEOF',
  'echo x | while read v; do v2=$v; done; echo "[$v2]"',
  'echo $((0x10)) $((010)) $((-3/2))',
  'false; echo $? ; ! true; echo $?',
  'printf "%s\\n" a b c',
  'echo "quoted \\"inner\\" \\$HOME"',
  'echo \'single $HOME\' "double $HOME"',
  'sh -c "exit 5"; echo $?',
  'x=3; case $x in [0-2]) echo low;; [3-5]) echo mid;; esac',
  'eval "y=7"; echo $y',
  'unset HOME; echo "[${HOME:-none}]"',
  'echo a; false; echo $?',
  'x=1; [ "$x" = 1 ] && echo yes || echo no',
  'for i in $(seq 1 5); do if [ $((i % 2)) -eq 0 ]; then continue; fi; echo $i; done',
  'i=0; while :; do i=$((i+1)); [ $i -ge 3 ] && break; done; echo $i',
  'f() { local v=$1; echo "[$v]"; }; f "a b"; f',
  'set -- a "b c" d; for x in "$@"; do echo "<$x>"; done; echo $#; shift; echo $1',
  'echo ${UNSET:-default} ${UNSET-x} "${EMPTY:=filled}" $EMPTY',
  'v=abc.def.ghi; echo ${v#*.} ${v##*.} ${v%.*} ${v%%.*} ${#v}',
  'case foo.txt in *.md) echo md;; *.txt) echo txt;; esac',
  'echo "$(echo inner "$(echo nested)")"',
  'a="1 2   3"; for w in $a; do echo $w; done; echo "$a"',
  'printf "%s-%d-%5s|%-4s|%03d\\n" x 42 r l 7',
  'echo $((3 + 4 * 2)) $(( (3+4)*2 )) $((10/3)) $((10%3)) $((1<2)) $((5>3 && 2>3))',
  'cat <<EOF\nhello $((1+1))\n  world\nEOF',
  'cat <<\'EOF\'\nno $expansion here\nEOF',
  'x=5; until [ $x -le 0 ]; do x=$((x-2)); done; echo $x',
  '! false && echo negated',
  '{ echo one; echo two; } | wc -l',
  '(exit 3); echo $?',
  'echo start; exit 4; echo never',
  'test -n "" || echo empty; test -z "" && echo zero',
  'echo a b | { read x y; echo "$y $x"; }',
  'set -e; false || echo ok; echo after',
  'set -e; if false; then echo no; fi; echo survived',
  'x=$(exit 7); echo $?',
  'IFS=:; v=a:b:c; for p in $v; do echo $p; done',
  'trap "echo trapped" EXIT; echo body',
  'n=0; for f in 1 2 3; do n=$((n+f)); done; echo $n',
  'expr 3 + 4; expr 10 / 3; expr 5 \\> 3',
  'echo abc | tr a-c A-C; echo a:b:c | cut -d: -f1,3',
  'echo "x y z" | awk \'{print $2, NF}\'',
  'printf "a\\nb\\nc\\n" | grep -c b',
  '[ 1 -lt 2 -a 3 -gt 2 ] && echo both; [ 1 -gt 2 -o 3 -gt 2 ] && echo either',
  'x=1\nif [ $x = 1 ]\nthen\n  echo multi\nfi',
  'echo `echo backtick`',
  'for i in 1 2; do for j in a b; do [ $j = b ] && continue 2; echo $i$j; done; done',
  'v=; echo "[${v:+set}]" "[${v+set}]"',
];

async function ours(script: string): Promise<{ stdout: string; exitCode: number }> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u', resourceVersion: '1', creationTimestamp: '' }, spec: {} } as StoredObject;
  const storage = new PodStorage({ pod, node: new NodeFilesystem(10 * GiB, GiB), memoryBytes: GiB, configMap: () => undefined });
  const shell = new ContainerShell({ fs: storage.containerFilesystem('c', [], 'p'), env: new Map([['HOME', '/root']]), hostname: 'p' });
  let stdout = '';
  const outcome = await shell.exec(['sh', '-c', script], { stdout: (b) => (stdout += b.toString()), stderr: () => undefined }, new AbortController().signal);
  return { stdout, exitCode: outcome.kind === 'exited' ? outcome.code : -1 };
}

describe('sim kubelet: the container shell against dash', () => {
  if (!installed('dash', ['-c', 'true'])) {
    it('needs dash on PATH (apt-get install dash)');
    return;
  }
  it(`prints and exits as dash does for ${SCRIPTS.length} scripts`, async () => {
    const differences: string[] = [];
    for (const script of SCRIPTS) {
      // dash's output has its last newline trimmed by execa.
      const expected = execaSync('dash', ['-c', script], { reject: false, env: { HOME: '/root' }, extendEnv: false, stripFinalNewline: false });
      const got = await ours(script);
      if (got.stdout !== expected.stdout || got.exitCode !== expected.exitCode) {
        differences.push(`${JSON.stringify(script)}\n  dash: ${JSON.stringify(expected.stdout)} exit ${expected.exitCode}\n  ours: ${JSON.stringify(got.stdout)} exit ${got.exitCode}`);
      }
    }
    expect(differences, differences.join('\n')).to.deep.equal([]);
  });
});
