# Shared by scripts/test.sh and scripts/reproduce.sh: Debian packages and the build.
# Sourced, not run.

# Packages every build needs (Debian 12 names).
ATTNLAB_PACKAGES=(g++ cmake ninja-build git pkg-config ccache libeigen3-dev libboost-random-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libcli11-dev libbenchmark-dev
  python3 python3-matplotlib python3-numpy python3-dev pybind11-dev)
# The peers `attnlab bench` compares against (scripts/bench.sh installs them).
ATTNLAB_BENCH_PACKAGES=(libxsmm-dev libopenblas-dev python3-torch)

# install_packages NAME...: installs the ones that are missing, saying which; sudo when not root.
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "attnlab: installing missing Debian packages: ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# build DIR BUILD_TYPE [CMAKE ARGS...]: configures (once) and builds everything.
build() {
  local dir=$1 type=$2
  shift 2
  # ccache makes a rebuild of unchanged files (another build folder, a re-run) nearly free.
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${launcher[@]}" "$@" >/dev/null
  ninja -C "$dir"
}

# The Python that report and figures use: Debian's, which has matplotlib.
ATTNLAB_PYTHON=/usr/bin/python3
