# mailpool container image (README "Container image").
#
#   podman build -t mailpool:0.1.0 --build-arg VERSION=0.1.0 .
#
# Build arguments:
#   BASE_IMAGE  the Node.js image for every stage; default the newest Node LTS slim image.
#               Any Debian-based Node >= 20.19 image works (node:20-slim, node:24-slim, ...);
#               `npm run test:image` builds this file on a base image it makes offline.
#   VERSION, REVISION, CREATED  fill the OCI labels (mailpool's version, git commit, date).
#
# The daemon listens on 127.0.0.1 by default: in a container set `daemon.listen: "0.0.0.0:9465"`
# in the config (deploy/kubernetes/configmap.yaml does).
ARG BASE_IMAGE=node:26-slim

# --- build: every dependency, including the compiler; `npm ci` runs `prepare`, which builds dist/.
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
RUN npm ci --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache

# --- runtime: production dependencies only (no install scripts run), the compiled code,
# example config; no sources, tests or dev tools.
FROM ${BASE_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mailpool" \
      org.opencontainers.image.description="Keeps the round-robin DNS of SMTP/IMAP/POP3 pools true, with real protocol handshakes." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.documentation="README.md, section Container image"
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache && rm -rf /tmp/npm-cache
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/providers ./dist/providers
COPY config/example.yaml config/example.zone config/schema.json ./config/
# Node's compile cache (Node 22.1+), filled here with the modules every command loads, so a
# CronJob's fresh container starts without compiling them again; it belongs to root, so the
# runtime user only reads it (new entries it cannot write are skipped without a word).
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN node dist/src/cli/bin.js validate -c config/example.yaml >/dev/null && node dist/src/cli/bin.js schema >/dev/null
# Numeric, so the kubelet can check runAsNonRoot without a passwd lookup (it refuses a
# non-numeric USER). 1000 is the node image's `node` user; no file in /app belongs to it, so
# the process cannot rewrite its own code.
USER 1000:1000
EXPOSE 9465
# node is PID 1 and handles SIGTERM/SIGINT (and SIGHUP in the daemon) itself: `run`, `run --once`,
# `plan` and `apply` install handlers that stop cleanly and exit. Its only children (a zone
# file's reloadCommand) run without a shell and are waited for, so no init is needed to reap.
ENTRYPOINT ["node", "/app/dist/src/cli/bin.js"]
CMD ["run", "-c", "/etc/mailpool/mailpool.yaml"]
