import { expect } from 'chai';
import { SeededRandom } from '../../src/core/rng.js';
import { crashCases, killAndRecover, planKill, startMatrixCluster, type Kill, type SimServe } from '../support/crash-matrix.js';
import { tempDir } from './cli-process.js';

const KILLS = 20;
const SEED = 20261129;
const HOLD_MS = 800;

/**
 * Twenty SIGKILLs of `gameday run` (the built CLI) spread over every fault kind and the inject,
 * hold and revert phases, each followed by `gameday recover`: the cluster must be as it was
 * before the run. test/bench/crash-bench.ts runs the same matrix at any size.
 */
describe('crash matrix: gameday run SIGKILLed in inject, hold or revert, then recover (real CLI processes)', function () {
  this.timeout(240_000);
  const dir = tempDir('gameday-crash-');
  const cases = crashCases();
  const rng = new SeededRandom(SEED);
  let cluster: SimServe | undefined;

  before(async () => {
    cluster = await startMatrixCluster(dir);
  });

  after(async () => {
    expect(await cluster?.stop(), 'sim serve stops cleanly on SIGINT').to.equal(0);
  });

  it(`leaves nothing behind after any of ${KILLS} kills (seed ${SEED})`, async () => {
    const kills: Kill[] = [];
    for (let i = 0; i < KILLS; i++) {
      const { case: c, phase } = planKill(cases, i);
      // Inject and revert take tens of milliseconds on the embedded cluster, a drain seconds: aim within that.
      const kill = await killAndRecover({ index: i, case: c, phase, cluster: cluster!, dir, rng, holdMs: HOLD_MS, windows: { inject: 60, hold: HOLD_MS, revert: 60 } });
      kills.push(kill);
      expect(kill.recoverExit, `kill ${i} (${c.name} in ${phase}): recover said ${kill.recoverOutput}`).to.equal(0);
      expect(kill.unhandled, `kill ${i} (${c.name} in ${phase}): unhandled errors`).to.deep.equal([]);
      expect(kill.leftovers, `kill ${i} (${c.name} in ${phase} after ${kill.delayMs} ms, ${kill.runDir}) left behind`).to.deep.equal([]);
    }
    expect(new Set(kills.map((k) => k.kind)), 'every fault kind was killed at least once').to.have.property('size', new Set(cases.map((c) => c.kind)).size);
    expect(kills.filter((k) => k.killedIn === 'not-killed').map((k) => `kill ${k.index} (${k.case}, ${k.phase} +${k.delayMs} ms)`), 'runs that ended before their kill').to.deep.equal([]);
  });
});
