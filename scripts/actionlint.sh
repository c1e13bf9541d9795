#!/usr/bin/env bash
# Validates .github/workflows/*.yml with actionlint (npm run lint:workflows, part of npm test), and,
# when shellcheck is on PATH, the shell scripts the product ships or CI runs (probes/probe.sh,
# .ci/run, scripts/*.sh).
#
# actionlint is built from source with Go, at the version pinned below, into a cache outside the
# work tree (~/.cache/polygraph-tools/actionlint-<version>/), once; later runs reuse the binary.
# Needs only Go (on PATH or in /usr/local/go/bin) and the Go module proxy. When shellcheck is on
# PATH, actionlint also checks the scripts of `run:` steps with it.
set -euo pipefail

ACTIONLINT_VERSION=v1.7.12
MODULE=github.com/rhysd/actionlint

cd "$(dirname "$0")/.."
cache="${POLYGRAPH_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/polygraph-tools}/actionlint-${ACTIONLINT_VERSION}"
bin="${cache}/actionlint"

if [[ ! -x "${bin}" ]]; then
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:${PATH}"
  fi
  if ! command -v go >/dev/null; then
    echo "actionlint.sh: Go is required to build actionlint ${ACTIONLINT_VERSION} (once, cached in ${cache})." >&2
    echo "  Install Go from https://go.dev/dl/ and put it on PATH, then run npm run lint:workflows again." >&2
    exit 1
  fi
  echo "actionlint.sh: building actionlint ${ACTIONLINT_VERSION} into ${cache} (once)" >&2
  mkdir -p "${cache}"
  # Some module proxies refuse `go install pkg@version` for a path but serve the module itself:
  # then build from the downloaded module's directory.
  if ! GOBIN="${cache}" GOFLAGS=-mod=mod go install "${MODULE}/cmd/actionlint@${ACTIONLINT_VERSION}"; then
    echo "actionlint.sh: go install failed; building from the downloaded module instead" >&2
    dir=$(go mod download -json "${MODULE}@${ACTIONLINT_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
    if [[ -z "${dir}" ]]; then
      echo "actionlint.sh: go mod download ${MODULE}@${ACTIONLINT_VERSION} gave no directory" >&2
      exit 1
    fi
    (cd "${dir}" && GOFLAGS=-mod=mod go build -o "${bin}" ./cmd/actionlint)
  fi
fi

args=(-no-color -pyflakes=)
if command -v shellcheck >/dev/null; then
  shellcheck probes/probe.sh .ci/run scripts/*.sh
else
  args+=(-shellcheck=)
fi
exec "${bin}" "${args[@]}" "$@"
