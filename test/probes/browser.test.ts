import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { serviceProxyPath } from '../../src/cluster/raw-request.js';
import { browserProbe } from '../../src/probes/browser.js';
import { isReady, podsOf, startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { httpService, webDeployment } from '../support/kube-objects.js';
import { collectingContext, runProbeFor, withinSchedule } from './collecting-context.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('browser probe in real Chromium against the embedded cluster', function () {
  this.timeout(40_000);
  let sim: SimClients;
  let checkoutUrl: string;
  before(async () => {
    sim = await startSim();
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('shop', 1) });
    await sim.core.createNamespacedService({ namespace: 'default', body: httpService('shop') });
    await eventually('shop ready', async () => (await podsOf(sim.core, 'default', 'shop')).some(isReady));
    checkoutUrl = sim.cluster.url + serviceProxyPath('default', 'shop', '80', '/checkout');
    await eventually('shop served', async () => (await fetch(checkoutUrl)).ok);
  });
  after(() => sim?.cluster.stop());

  it('gives ok samples with the journey duration when the user gets through', async () => {
    const ctx = collectingContext({ experimentDir: fixtures, name: 'checkout' });
    await runProbeFor(browserProbe, ctx, { url: checkoutUrl, journey: 'journeys/checkout.ts', every: '400ms', timeout: '10s' }, 1000);
    expect(withinSchedule(ctx.samples, 1000), JSON.stringify(ctx.samples)).to.have.length(3);
    for (const s of ctx.samples) {
      expect(s.ok, s.error).to.equal(true);
      expect(s.latencyMs).to.be.greaterThan(0);
    }
    expect(ctx.failures).to.have.length(0);
    expect(ctx.logs.at(-1)).to.match(new RegExp(`^${ctx.samples.length} journeys, ${ctx.samples.length} ok; duration p50 `));
  });

  it('fails a journey that cannot find its element, with the error and a PNG screenshot', async () => {
    const ctx = collectingContext({ experimentDir: fixtures, name: 'coupon' });
    await runProbeFor(browserProbe, ctx, { url: checkoutUrl, journey: 'journeys/missing-element.ts', every: '1s', timeout: '10s' }, 300);
    expect(ctx.samples).to.have.length(1);
    const [s] = ctx.samples;
    expect(s!.ok).to.equal(false);
    expect(s!.error).to.match(/^locator\.fill: Timeout 500ms exceeded/);
    expect(s!.error).to.not.include('\n');
    const screenshot = s!.detail?.screenshot as string;
    expect(screenshot.startsWith(ctx.artifactsDir)).to.equal(true);
    expect(readFileSync(screenshot).subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG file').to.equal(true);
    expect(s!.detail?.page).to.equal(checkoutUrl);
  });

  it('fails a journey that outlives its timeout as a timeout', async () => {
    const ctx = collectingContext({ experimentDir: fixtures });
    await runProbeFor(browserProbe, ctx, { url: checkoutUrl, journey: 'journeys/hangs.ts', every: '5s', timeout: '2s' }, 100);
    // 2 s, so that even a busy machine has opened the page (and so can screenshot it) before then.
    expect(ctx.samples).to.have.length(1);
    expect(ctx.samples[0]).to.include({ ok: false, error: 'journey timed out after 2s' });
    expect(ctx.samples[0]!.latencyMs).to.be.at.least(2000);
    expect(ctx.samples[0]!.detail?.screenshot).to.be.a('string');
  });

  it('refuses a journey file that is missing or exports no function, saying which', async () => {
    const start = (journey: string) => browserProbe.start(collectingContext({ experimentDir: fixtures, name: 'shop' }), browserProbe.params.parse({ url: checkoutUrl, journey }));
    await expectRejection(start('journeys/nope.ts'), /^browser probe shop: journey journeys\/nope\.ts: no such file/);
    await expectRejection(start('journeys/no-default-export.ts'), /its default export must be a function/);
  });
});

async function expectRejection(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a rejection matching ${message}`);
}
