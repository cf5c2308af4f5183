# Sentra: the API server, the controller, the dashboard and the embedded all-in-one, in one image.
#   docker build -t sentra .
#   docker run -p 127.0.0.1:4000:4000 sentra              # embedded: SQLite, in-process bus, demo
#   docker run ... sentra server | controller | web       # the separate processes (MySQL + Redis)
# The role is the first argument (deploy/docker/entrypoint.mjs); the health check follows it.

# 1. Dependencies, with the toolchain better-sqlite3 compiles with.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# 2. The dashboard's production build, then only the runtime dependencies.
FROM deps AS build
COPY . .
ENV NEXT_TELEMETRY_DISABLED=1
RUN npm run build:web \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf web/.next/cache test bench .ci .git

# 3. The runtime: no compiler, no dev dependencies, a non-root user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    SENTRA_HOST=0.0.0.0 \
    SENTRA_DATABASE_URL=/data/sentra.db
WORKDIR /app
RUN groupadd --system --gid 10001 sentra \
 && useradd --system --uid 10001 --gid sentra --home-dir /app --shell /usr/sbin/nologin sentra \
 && mkdir -p /data && chown sentra:sentra /data
COPY --from=build --chown=root:root /app /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 4000 3000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["node", "deploy/docker/entrypoint.mjs"]
CMD ["embedded"]
