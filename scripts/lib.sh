# Shared by the scripts in this folder; sourced, never run.
# Finds the Python the project uses and enters the project's environment.

G90_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The Debian sid root that provides Python 3.14 on machines that lack it.
G90_PYTHON_ROOT=${G90_PYTHON_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/g90-cloud/python-root}
G90_MIN_PYTHON="3.14.2"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Home Assistant environments (scripts/setup, run and e2e take --ha NAME),
# each a venv with its own requirements file, whose one pinned line is the
# Home Assistant it holds:
#   test    (the default) .venv: requirements_test.txt, where the test plugin
#           pins the Home Assistant the unit tests and the lint run on;
#   newest  .venv-newest: requirements_newest.txt, the newest Home Assistant
#           release, which CI also runs scripts/e2e against.
g90_select_ha() {
    case $1 in
        test) G90_VENV="$G90_REPO/.venv" G90_REQUIREMENTS=requirements_test.txt ;;
        newest) G90_VENV="$G90_REPO/.venv-newest" G90_REQUIREMENTS=requirements_newest.txt ;;
        *) die "unknown Home Assistant environment '$1' (--ha test or --ha newest)" ;;
    esac
    G90_HA=$1
    # Where setup records which Python the venv belongs to ("host" or the root's path).
    G90_ENV_FILE="$G90_VENV/g90-python"
    # Written by setup once the venv holds everything: the hash of what it installed.
    G90_STAMP_FILE="$G90_VENV/g90-requirements.sha256"
}
g90_select_ha test

# Prints the first Python >= G90_MIN_PYTHON on PATH (or G90_PYTHON), if any.
find_host_python() {
    local candidate
    for candidate in ${G90_PYTHON:-} python3.14 python3.15 python3.16 python3 python; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 14, 2))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# Environment variables a command inside the root may keep from the caller.
G90_PASS_VARS="TERM CI COLUMNS LINES NO_COLOR FORCE_COLOR PYTEST_ADDOPTS PIP_INDEX_URL \
PIP_EXTRA_INDEX_URL http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY \
HYPOTHESIS_PROFILE G90_DEVELOP_PORT G90_BENCH_QUICK"

# Runs "$@" with the repository as working directory, inside the Python root
# when one is used. With with_venv=1 the project's venv is active.
# Replaces the current process (exec), so exit codes and signals pass through.
g90_exec() {
    local with_venv=$1 mode=$2
    shift 2
    if [ "$mode" = host ]; then
        cd "$G90_REPO" || exit 1
        if [ "$with_venv" = 1 ]; then
            export VIRTUAL_ENV="$G90_VENV" PATH="$G90_VENV/bin:$PATH"
            unset PYTHONHOME
        fi
        exec "$@"
    fi
    local root=$mode path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    local -a envs=(HOME=/root LANG=C.UTF-8 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
        REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt)
    local var
    for var in $G90_PASS_VARS; do
        [ -n "${!var+x}" ] && envs+=("$var=${!var}")
    done
    if [ "$with_venv" = 1 ]; then
        envs+=("VIRTUAL_ENV=$G90_VENV")
        path="$G90_VENV/bin:$path"
    fi
    envs+=("PATH=$path")
    # A private mount namespace: the mounts vanish when the command ends, even
    # on a crash or a signal, and concurrent runs never see each other's.
    exec unshare --mount --propagation private -- /bin/sh -c '
        set -e
        root=$1 repo=$2
        shift 2
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        mkdir -p "$root$repo"
        mount --bind "$repo" "$root$repo"
        if [ -e /etc/resolv.conf ]; then
            touch "$root/etc/resolv.conf"
            mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
        fi
        exec "$@"
    ' g90-run "$root" "$G90_REPO" \
        chroot "$root" /usr/bin/env -i "${envs[@]}" \
        /bin/sh -c 'cd "$0" && exec "$@"' "$G90_REPO" "$@"
}

# Makes sure the Debian packages "$@" are installed where the project's Python
# runs ($1: "host" or the Python root's path), installing the missing ones with
# apt-get (as root). Quick when every one already is; used for optional tools
# (e.g. scripts/screenshots' chromium) that setup does not install.
g90_debian_packages() {
    local mode=$1 where="in the Python root" list
    local -a missing
    shift
    [ "$mode" = host ] && where="on the host"
    list=$( (g90_exec 0 "$mode" sh -c '
        for package; do
            dpkg-query -W -f="\${db:Status-Status}" "$package" 2>/dev/null | grep -qx installed \
                || printf "%s " "$package"
        done' sh "$@") ) || die "could not ask dpkg which packages are installed $where"
    read -ra missing <<<"$list"
    [ "${#missing[@]}" -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing Debian packages $where: ${missing[*]}; install them (as root)"
    say "installing ${missing[*]} $where"
    (g90_exec 0 "$mode" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"' sh "${missing[@]}") >&2 \
        || die "could not install ${missing[*]} $where"
}
