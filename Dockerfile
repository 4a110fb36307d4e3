# syntax=docker/dockerfile:1
# One image for every profile-stream process; the command picks the process:
#   docker run profile-stream:local stack provision
#   docker run profile-stream:local run clickstream
# Node 24 runs the TypeScript sources directly (type stripping): no build step, no `typescript` at run time.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- source: the build context, split into dependency manifests and the runtime sources ----------------------
# Manifests (package.json, package-lock.json, every workspace's package.json) go to /out/manifests so that the
# `npm ci` layer below is rebuilt only when one of them changes. Workspaces are read from package.json, so a new
# services/<name>/package.json is picked up without editing this file, and a missing folder is not an error.
FROM ${NODE_IMAGE} AS source
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir -p /out/manifests /out/app; \
    cp package.json package-lock.json /out/manifests/; \
    for ws in $(node -p "require('./package.json').workspaces.join(' ')"); do \
      for f in $ws/package.json; do \
        [ -f "$f" ] || continue; \
        mkdir -p "/out/manifests/$(dirname "$f")"; \
        cp "$f" "/out/manifests/$f"; \
      done; \
    done; \
    for d in packages services infra schemas segments; do \
      if [ -d "$d" ]; then cp -a "$d" /out/app/; fi; \
    done

# ---- deps: production dependencies only, exactly as locked ------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=source /out/manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund

# ---- runtime ----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PS_DATA_DIR=/var/lib/profile-stream \
    PS_CACHE_DIR=/home/node/.cache/profile-stream
WORKDIR /app
# node_modules (with the workspace links) and the manifests, then packages/ services/ infra/ schemas/ segments/.
# Everything under /app stays owned by root: the processes only read it.
COPY --from=deps /app/ ./
COPY --from=source /out/app/ ./
RUN mkdir -p /var/lib/profile-stream /home/node/.cache/profile-stream \
    && chown -R node:node /var/lib/profile-stream /home/node/.cache \
    && ln -s /app/packages/cli/src/main.ts /usr/local/bin/profile-stream
# The official image's unprivileged user (uid 1000).
USER node
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "packages/cli/src/main.ts"]
CMD ["--help"]
