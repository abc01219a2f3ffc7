# syntax=docker/dockerfile:1
# backup-bot: Node 24, TypeScript run directly (type stripping), restic built from source.

ARG NODE_VERSION=24
ARG GO_VERSION=1.26
ARG RESTIC_VERSION=v0.18.1

FROM golang:${GO_VERSION}-bookworm AS restic
ARG RESTIC_VERSION
RUN CGO_ENABLED=0 GOBIN=/out go install -trimpath -ldflags "-s -w" github.com/restic/restic/cmd/restic@${RESTIC_VERSION}

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the base image already is Node 24, so the node devDependency is not needed.
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    RESTIC_BIN=/usr/local/bin/restic \
    PORT=3000
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=restic /out/restic /usr/local/bin/restic
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY commands ./commands
COPY schedules ./schedules
# The node image ships user "node" (uid 1000); never run as root.
USER 1000:1000
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "src/main.ts"]
