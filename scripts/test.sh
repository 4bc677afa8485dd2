#!/usr/bin/env bash
# Sets up a fresh machine (scripts/install.sh --test) and runs every check: lint, the import
# direction rule, unit tests and integration tests (root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test

npx biome lint src test
npx depcruise dist/src --config .dependency-cruiser.cjs --output-type err

# Unit tests need no root; integration tests use the real kernel, one file at a time.
node --test dist/src
node --test --test-concurrency=1 dist/test/integration
