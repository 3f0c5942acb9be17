import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerfileProblems, stages, words, type Stage } from './dockerfile-check.js';

/**
 * No image can be built on these machines (no container engine), so this checks what `docker
 * build` would trip over and what a user of the image relies on, from the parsed Dockerfile.
 */
describe('the Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const all = stages(dockerfile);
  const runtime = all.at(-1)!;
  const keyword = (stage: Stage, name: string) => stage.instructions.filter((i) => i.getKeyword() === name);

  it('builds in one stage and runs from another, both on Node 20', () => {
    expect(all.map((s) => s.name)).to.deep.equal(['build', 'runtime']);
    for (const s of all) expect(words(s.instructions[0]!)[0]).to.equal('node:20-bookworm-slim');
  });

  it('copies only files the build context has, and runs as a numeric non-root user', () => {
    expect(dockerfileProblems(dockerfile, '.')).to.deep.equal([]);
  });

  it('rejects a COPY of a missing or ignored file, a --from of no stage, and a root or named user', () => {
    const broken = [
      'FROM node:20-bookworm-slim AS build',
      'COPY no-such-file.json ./',
      'FROM node:20-bookworm-slim',
      'COPY reports/ reports/',
      'COPY --from=compile /app/dist/ dist/',
      'USER root',
      '',
    ].join('\n');
    expect(dockerfileProblems(broken, '.')).to.deep.equal([
      'Dockerfile:2 copies no-such-file.json, which is not in the build context',
      'Dockerfile:4 copies reports/, which .dockerignore leaves out of the build context',
      'Dockerfile:5 --from=compile names no earlier stage (build)',
      'Dockerfile:6 the final stage runs as root',
    ]);
    expect(dockerfileProblems('FROM node:20-bookworm-slim\nUSER node\n', '.')).to.deep.equal([
      "Dockerfile:2 USER node is a name: a pod's runAsNonRoot can verify only a numeric uid",
    ]);
    expect(dockerfileProblems('FROM node:20-bookworm-slim\n', '.')).to.deep.equal(['Dockerfile:1 the final stage runs as root: add USER with a numeric uid']);
  });

  it('installs only production dependencies in the runtime stage and takes dist/ from the build stage', () => {
    const runs = keyword(runtime, 'RUN').map((i) => i.getArgumentsContent() ?? '');
    expect(runs.some((r) => /\bnpm ci --omit=dev\b/.test(r))).to.equal(true, 'npm ci --omit=dev in the runtime stage');
    const copies = keyword(runtime, 'COPY').map((i) => i.getTextContent());
    expect(copies).to.include('COPY --from=build /app/dist/ dist/');
    expect(copies.filter((c) => /\bsrc\//.test(c))).to.deep.equal([]);
    expect(copies).to.include('COPY experiments/ experiments/');
  });

  it("has gameday's CLI, the package's bin, as its entrypoint", () => {
    const bin = (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: { gameday: string } }).bin.gameday;
    // The WORKDIR in force where dist/ is copied in is where the CLI lands.
    let workdir = '/';
    let cliDir: string | undefined;
    for (const i of runtime.instructions) {
      if (i.getKeyword() === 'WORKDIR') workdir = path.posix.resolve(workdir, words(i)[0]!);
      if (i.getKeyword() === 'COPY' && words(i).at(-1) === 'dist/') cliDir = workdir;
    }
    expect(cliDir, 'a COPY of dist/ into the runtime stage').to.be.a('string');
    expect(keyword(runtime, 'ENTRYPOINT').map(words)).to.deep.equal([['node', path.posix.join(cliDir!, bin)]]);
  });

  it('installs Chromium only when built with WITH_CHROMIUM=true', () => {
    expect(keyword(runtime, 'ARG').map((i) => i.getArgumentsContent())).to.include('WITH_CHROMIUM=false');
    const install = keyword(runtime, 'RUN')
      .map((i) => i.getArgumentsContent() ?? '')
      .find((r) => r.includes('$WITH_CHROMIUM'));
    expect(install).to.match(/true\)[^;]*apt-get install -y --no-install-recommends chromium/);
  });
});
