# gameday's container image: the CLI as entrypoint, the shipped experiments in /app/experiments.
#   docker build -t gameday .                              # without Chromium
#   docker build -t gameday --build-arg WITH_CHROMIUM=true . # for browser probes and report --pdf
#   docker run --rm gameday run /app/experiments/ --tags suite=smoke
# Runs as uid 1000 in /work: mount experiments there and reports come back under /work/reports.

# The build stage: every dependency, TypeScript included, to compile src/ into dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts wait until the sources are here: the package's `prepare` script is the build itself.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
RUN npm run build

# The runtime stage: production dependencies only, and the compiled CLI from the build stage.
FROM node:20-bookworm-slim AS runtime
ARG WITH_CHROMIUM=false
# gameday finds Debian's /usr/bin/chromium by itself (src/browser/chromium.ts), so no variable is set.
RUN case "$WITH_CHROMIUM" in \
      true) apt-get update \
        && apt-get install -y --no-install-recommends chromium \
        && rm -rf /var/lib/apt/lists/* ;; \
      false) ;; \
      *) echo "WITH_CHROMIUM is '$WITH_CHROMIUM'; write true or false" >&2; exit 1 ;; \
    esac
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build, which needs TypeScript, a dev dependency; dist/ comes
# from the build stage instead. esbuild (tsx loads TypeScript plug-ins and journeys through it)
# still gets its own install script, through rebuild.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild esbuild \
  && npm cache clean --force
COPY --from=build /app/dist/ dist/
COPY experiments/ experiments/
# A numeric user, so a pod's `runAsNonRoot: true` can verify it (a name such as `node` cannot be).
RUN mkdir /work && chown 1000:1000 /work
USER 1000:1000
WORKDIR /work
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["--help"]
