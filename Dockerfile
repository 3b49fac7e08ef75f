# mailpool container image. In the container the daemon listens on all interfaces:
# set `daemon.listen: "0.0.0.0:9465"` in the config.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
USER node
EXPOSE 9465
ENTRYPOINT ["node", "/app/dist/src/cli/bin.js"]
CMD ["run", "-c", "/etc/mailpool/mailpool.yaml"]
