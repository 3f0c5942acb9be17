import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually } from '../support/eventually.js';
import { CLI, tempDir } from './cli-process.js';

/**
 * `gameday sim serve` in the background, as the README shows it: started by a wrapper that does not
 * pass signals on (npx does not), the server must stop once the wrapper is gone rather than be
 * left running with nobody to stop it.
 */
describe('gameday sim serve in the background (real processes)', function () {
  this.timeout(60_000);

  it('stops the embedded cluster when the process that started it goes away', async () => {
    const dir = tempDir();
    const kubeconfig = path.join(dir, 'kubeconfig');
    const pidFile = path.join(dir, 'server.pid');
    // A wrapper like npx: it starts the server as its child and is killed without telling it.
    const wrapper = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" sim serve --kubeconfig "${kubeconfig}" > "${dir}/out.log" 2>&1 & echo $! > "${pidFile}"; wait`], { stdio: 'ignore' });
    let server: number | undefined;
    try {
      server = Number(await eventually('the server started', () => existsSync(kubeconfig) && existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim(), 30_000));
      const url = /server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      wrapper.kill('SIGKILL');
      const pid = server;
      await eventually('the server process gone', () => !alive(pid), 20_000);
      expect(readFileSync(path.join(dir, 'out.log'), 'utf8')).to.contain('stopping the embedded cluster (the process that started it has exited)');
      const refused = await fetch(`${url}/healthz`).then(() => false, () => true);
      expect(refused).to.equal(true);
    } finally {
      // A failed check must not leave the wrapper and its server running after the test.
      wrapper.kill('SIGKILL');
      if (server !== undefined && server > 0 && alive(server)) process.kill(server, 'SIGKILL');
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
