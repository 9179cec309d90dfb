# quo-sync in a container: the daemon by default. See docs/daemon.md ("In a container").
#
#   docker build -t quo-sync .
#   docker run -d --name quo-sync --init --stop-timeout 45 \
#     -e QUO_API_KEY -v "$PWD/config:/config:ro" -v quo-sync-data:/data -p 127.0.0.1:9464:9464 quo-sync
#
# /healthz and /metrics have no authentication: publish the port on the host's loopback (as above)
# or a monitoring network, not with a bare `-p 9464:9464`, which opens it on every host interface.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# The devDependencies hold the build's tools (TypeScript); compiling needs none of their install
# scripts, so none runs here.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.pack.json README.md .env.example quo-sync.schema.json ./
COPY src ./src
COPY connectors ./connectors
COPY migrations ./migrations
COPY docs ./docs
COPY examples ./examples
COPY deploy ./deploy
# The package exactly as `npm pack` makes it for a release (its prepack builds it), unpacked into
# /app with the runtime dependencies package-lock.json pins; better-sqlite3's install script
# fetches (or builds) its SQLite driver here. No test, source or devDependency reaches the image.
RUN npm pack --pack-destination /tmp \
 && mkdir /app && tar -xzf /tmp/quo-sync-*.tgz -C /app --strip-components=1 \
 && cp package-lock.json /app/ \
 && cd /app && npm ci --omit=dev --no-audit --no-fund && rm package-lock.json \
 && chmod 0755 dist/src/cli.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production
COPY --from=build /app /app
# `quo-sync` on PATH, for `docker exec <container> quo-sync status …`. The state database (config:
# "state": "/data/quo-sync.db") and any CSV sources live on volumes.
RUN ln -s /app/dist/src/cli.js /usr/local/bin/quo-sync \
 && mkdir -p /data /config && chown node:node /data
VOLUME ["/data"]
USER node
WORKDIR /data
# The daemon listens on 0.0.0.0 inside the container: the container's loopback cannot be reached
# through a published port or a Kubernetes probe. Who can reach it from outside is decided where
# the port is published (`-p`, a Kubernetes Service or NetworkPolicy).
EXPOSE 9464
# The daemon exits 0 on SIGTERM after the writes in flight finish; docker's default 10 s grace is
# too short for --shutdown-timeout 30: run with --stop-timeout 45 (compose: stop_grace_period: 45s).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli.js"]
CMD ["daemon", "--config", "/config/quo-sync.config.json", "--http", "0.0.0.0:9464"]
