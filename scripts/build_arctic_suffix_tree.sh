#!/usr/bin/env bash
# Builds Arctic Inference's C++ suffix tree (arctic-inference, from its PyPI source distribution; only its
# suffix-decoding extension is compiled) into a separate venv, for the proposal-speed comparison of
# benchmarks/speculative.py. That venv reads the project venv's packages (its setup.py imports torch) and
# changes none of them.
#   scripts/build_arctic_suffix_tree.sh [PROJECT_VENV=.venv] [TARGET_VENV=.venv-arctic]
set -euo pipefail
project_venv=${1:-.venv}
target=${2:-.venv-arctic}
version=0.3.0
if [ -x "$target/bin/python" ] && "$target/bin/python" -c "import arctic_inference.suffix_decoding._C" 2>/dev/null; then
    exit 0
fi
command -v g++ >/dev/null || { echo "building arctic-inference needs a C++ compiler: apt-get install g++" >&2; exit 1; }
"$project_venv/bin/python" -m venv "$target"
target=$(cd "$target" && pwd)
project_site=$("$project_venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
target_site=$("$target/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$project_site" > "$target_site/project-venv.pth"
"$target/bin/pip" install --progress-bar off -q nanobind==2.9.2 ninja "cmake>=3.18" setuptools wheel grpcio-tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation "arctic-inference==$version" -d "$work"
tar xzf "$work/arctic_inference-$version.tar.gz" -C "$work"
CMAKE_ARGS="-DPython_EXECUTABLE=$target/bin/python3" \
    "$target/bin/pip" wheel -q --no-build-isolation --no-deps "$work/arctic_inference-$version" -w "$work/wheel"
"$target/bin/pip" install -q --no-deps "$work"/wheel/arctic_inference-*.whl
"$target/bin/python" -c "import arctic_inference.suffix_decoding._C" && echo "arctic-inference $version built in $target"
