import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';
import { launchChromium } from '../browser/chromium.js';
import { Duration } from '../core/duration.js';
import { UsageError, errorMessage } from '../core/errors.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import { LatencyHistogram } from './shared/latency-histogram.js';
import { OpenModelSchedule } from './shared/open-model-schedule.js';
import type { ProbeContext, ProbePlugin, RunningProbe } from './probe.js';

/** What a journey module's default export receives besides the page. */
export interface JourneyContext {
  /** The probe's `url`, already open in the page when the journey starts. */
  readonly url: string;
}

/** A journey module's default export: it throws (or rejects) when the user could not get through. */
export type Journey = (page: Page, context: JourneyContext) => Promise<void>;

const SCREENSHOT_TIMEOUT_MS = 5000;

const params = z.strictObject({
  url: z.url({ error: 'write an absolute URL like http://localhost:30080/' }).describe('page each journey starts on; it is opened in a fresh browser context before the journey runs'),
  journey: z
    .string({ error: 'name the journey module, like journeys/checkout.ts' })
    .min(1)
    .describe('TypeScript or JavaScript module (relative to the experiment file) whose default export is `async (page, { url }) => { … }`; a throw fails the sample'),
  every: positiveDurationSchema.optional().describe('how often a journey starts, whether or not the previous one finished. @default 10s'),
  timeout: positiveDurationSchema.optional().describe('a journey still running after this fails as a timeout. @default 30s'),
  viewport: z
    .strictObject({
      width: z.number().int().min(100).max(10000).describe('pixels'),
      height: z.number().int().min(100).max(10000).describe('pixels'),
    })
    .optional()
    .describe('browser window size, like { width: 1280, height: 720 }. @default 1280×720'),
});
export type BrowserProbeParams = z.output<typeof params>;

/**
 * A Playwright user journey in real Chromium on a schedule: each run gets a fresh browser context
 * (no cookies or cache carried over), opens `url`, and runs the journey. A sample is ok when the
 * journey returns; its latency is how long the user took; a failure keeps a screenshot of what the
 * user saw.
 */
export const browserProbe = {
  kind: 'browser',
  summary: 'a Playwright user journey in headless Chromium on a schedule, with a screenshot on failure',
  params,

  async start(ctx: ProbeContext, p: BrowserProbeParams): Promise<RunningProbe> {
    const journey = await loadJourney(ctx, p.journey);
    const browser = await launchChromium('the browser probe');
    return new JourneyLoop(ctx, browser, journey, p).start();
  },
} satisfies ProbePlugin<BrowserProbeParams>;

async function loadJourney(ctx: ProbeContext, spec: string): Promise<Journey> {
  const file = resolve(ctx.experimentDir, spec);
  const where = `browser probe ${ctx.name}: journey ${spec}`;
  if (!existsSync(file)) throw new UsageError(`${where}: no such file (${file}); paths are relative to the experiment file`);
  let mod: { default?: unknown };
  try {
    // Loaded on demand and scoped to this import: runs without a journey never pay for tsx, and
    // a journey's TypeScript does not change how anything else is loaded.
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (err) {
    throw new UsageError(`${where}: cannot load it: ${errorMessage(err)}`);
  }
  if (typeof mod.default !== 'function') throw new UsageError(`${where}: its default export must be a function, like export default async (page) => { … }`);
  return mod.default as Journey;
}

class JourneyLoop {
  private readonly every: Duration;
  private readonly timeout: Duration;
  private readonly durations = new LatencyHistogram();
  private readonly running = new Set<Promise<void>>();
  private schedule!: OpenModelSchedule;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private runs = 0;
  private ok = 0;

  constructor(
    private readonly ctx: ProbeContext,
    private readonly browser: Browser,
    private readonly journey: Journey,
    private readonly p: BrowserProbeParams,
  ) {
    this.every = p.every ?? Duration.seconds(10);
    this.timeout = p.timeout ?? Duration.seconds(30);
  }

  start(): RunningProbe {
    this.browser.on('disconnected', () => {
      if (this.stopping) return;
      this.stopping = true;
      clearTimeout(this.timer);
      this.ctx.fail?.(new Error('Chromium exited while the probe was running'));
    });
    this.ctx.signal.addEventListener('abort', () => this.halt(), { once: true });
    this.schedule = new OpenModelSchedule(1000 / this.every.ms);
    this.tick();
    return { stop: () => this.stop() };
  }

  private halt(): void {
    this.stopping = true;
    clearTimeout(this.timer);
  }

  private async stop(): Promise<void> {
    this.halt();
    while (this.running.size) await Promise.all([...this.running]);
    await this.browser.close();
    this.ctx.log(`${this.runs} journeys, ${this.ok} ok; duration ${this.durations.format()}`);
  }

  private tick(): void {
    if (this.stopping) return;
    this.schedule.takeDue(performance.now(), (_at, t) => {
      const run = this.run(t).finally(() => this.running.delete(run));
      this.running.add(run);
    });
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.schedule.nextAt - performance.now()));
  }

  private async run(t: number): Promise<void> {
    this.runs++;
    let context: BrowserContext | undefined;
    let timer: NodeJS.Timeout | undefined;
    let page: Page | undefined;
    const started = performance.now();
    try {
      context = await this.browser.newContext({ viewport: this.p.viewport ?? { width: 1280, height: 720 } });
      context.setDefaultTimeout(this.timeout.ms);
      const opened = context;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`journey timed out after ${this.timeout.toString()}`)), this.timeout.ms);
      });
      const journey = (async () => {
        page = await opened.newPage();
        await page.goto(this.p.url);
        await this.journey(page, { url: this.p.url });
      })();
      await Promise.race([journey, timedOut]);
      const latencyMs = elapsed(started);
      this.durations.record(latencyMs);
      this.ok++;
      this.ctx.emit({ t, ok: true, latencyMs });
    } catch (err) {
      const latencyMs = elapsed(started);
      this.durations.record(latencyMs);
      const screenshot = page ? await this.screenshot(page, t) : undefined;
      this.ctx.emit({ t, ok: false, latencyMs, error: firstLine(err), ...(screenshot ? { detail: { screenshot, page: page!.url() } } : {}) });
    } finally {
      clearTimeout(timer);
      await context?.close().catch(() => undefined);
    }
  }

  /** What the user saw when the journey failed; undefined if the page could not be captured. */
  private async screenshot(page: Page, t: number): Promise<string | undefined> {
    const path = join(this.ctx.artifactsDir, `${this.ctx.name.replace(/[^\w.-]+/g, '_')}-${new Date(t).toISOString().replace(/[:.]/g, '-')}.png`);
    try {
      await page.screenshot({ path, timeout: SCREENSHOT_TIMEOUT_MS });
      return path;
    } catch (err) {
      this.ctx.log(`no screenshot of the failed journey at ${new Date(t).toISOString()}: ${firstLine(err)}`);
      return undefined;
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 1000) / 1000;
}

function firstLine(err: unknown): string {
  return errorMessage(err).split('\n', 1)[0]!.trim() || 'journey failed';
}
