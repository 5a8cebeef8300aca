# syntax=docker/dockerfile:1.7
# One image for every Murmur process: each service's HTTP entry, the workers and `migrate`.
# The process is chosen by the command (compose `command:`, Kubernetes `args:`), default user.
# Multi-arch (amd64, arm64): only the official multi-arch node image and npm packages with
# prebuilt binaries for both (argon2, msgpackr-extract); nothing is downloaded per architecture.
#   docker buildx build --platform linux/amd64,linux/arm64 -t murmur:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# ── build: dev dependencies, tsc → dist/ ────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/ libs/
COPY services/ services/
# --ignore-scripts: compiling needs no install scripts, and it keeps the `node` dev dependency (a
# Node binary for the local stack) from downloading an architecture-specific build.
# npm ci refuses a lock written without other platforms' optional packages ("out of sync");
# npm install still installs the locked versions (see scripts/bootstrap.mjs).
RUN --mount=type=cache,target=/root/.npm \
    (npm ci --ignore-scripts --no-audit --no-fund \
     || npm install --ignore-scripts --no-audit --no-fund) \
 && rm -rf node_modules/node node_modules/.bin/node
COPY tsconfig.base.json tsconfig.build.json tsconfig.json ./
COPY scripts/ scripts/
COPY tools/ tools/
RUN node scripts/build.mjs

# ── prod-deps: production dependencies only (argon2 and msgpackr-extract load prebuilt binaries
# for the target platform from their npm packages; nothing is compiled or fetched elsewhere) ────
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/libs libs
COPY --from=build /app/services services
RUN --mount=type=cache,target=/root/.npm \
    (npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund) \
 && npm cache clean --force

# ── runtime ─────────────────────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# tini as PID 1 forwards SIGTERM to node and reaps zombies; Nest's shutdown hooks then drain
# in-flight requests (SHUTDOWN_GRACE_MS) and BullMQ workers finish their jobs before exit.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=prod-deps --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/dist dist
COPY --chown=root:root package.json ./
# The `node` user (uid 1000) of the official image; files stay root-owned and read-only to it.
USER 1000:1000
EXPOSE 3000 50051
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node"]
CMD ["dist/services/user/src/main.js"]
