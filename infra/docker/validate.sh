#!/usr/bin/env bash
# Validates docker-compose.yml (and the Compose files it would merge) with the Compose CLI, when there is one.
# CI calls this; on a machine without a Compose CLI it says so and succeeds.
#   docker compose (v2+ plugin)  -> `docker compose config -q`
#   docker-compose (standalone)  -> `docker-compose config -q`
# No Docker engine is needed: `config` only parses, interpolates and checks the model.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif command -v go >/dev/null 2>&1; then
  # No Compose CLI on this machine: build Compose v5 from the Go module proxy once into the cache
  # (about 80 s on 2 cores; `go install` refuses the module because its go.mod has exclude directives).
  COMPOSE_VERSION=v5.6.0
  bin="${PS_CACHE_DIR:-$HOME/.cache/profile-stream}/bin/docker-compose-$COMPOSE_VERSION"
  if [ ! -x "$bin" ]; then
    echo "building the Compose CLI $COMPOSE_VERSION from the Go module proxy (once)"
    dir=$(go mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    src=$(mktemp -d)
    cp -r "$dir/." "$src" && chmod -R u+w "$src"
    mkdir -p "$(dirname "$bin")"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v5/internal.Version=$COMPOSE_VERSION" -o "$bin.tmp" ./cmd)
    mv "$bin.tmp" "$bin"
    rm -rf "$src"
  fi
  compose=("$bin")
else
  echo "skipped: no docker compose CLI and no Go to build one"
  exit 0
fi

echo "compose: $("${compose[@]}" version 2>/dev/null | head -n1)"
"${compose[@]}" -f docker-compose.yml config -q
# With every profile on, so the pipeline services are checked too.
"${compose[@]}" -f docker-compose.yml --profile services config -q
echo "docker-compose.yml: valid"
