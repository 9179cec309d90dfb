# quo-sync in a container: the daemon by default. See docs/daemon.md ("In a container").
#
#   docker build -t quo-sync .
#   docker run -d --name quo-sync --init --stop-timeout 45 \
#     -e QUO_API_KEY -v "$PWD/config:/config:ro" -v quo-sync-data:/data -p 127.0.0.1:9464:9464 quo-sync
#
# /healthz and /metrics have no authentication: publish the port on the host's loopback (as above)
# or a monitoring network, not with a bare `-p 9464:9464`, which opens it on every host interface.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY connectors ./connectors
COPY scripts ./scripts
COPY bench ./bench
COPY test/emulators ./test/emulators
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json quo-sync.schema.json ./
COPY migrations ./migrations
# The state database (config: "state": "/data/quo-sync.db") and any CSV sources live on volumes.
RUN mkdir -p /data /config && chown node:node /data
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
