#!/usr/bin/env bash
# Builds every example kernel reproducibly and copies the results to wasm/.
#
#   kernels/build.sh            build, copy to wasm/<name>.wasm, write RUSTC_VERSION
#   kernels/build.sh --verify   build into a fresh temporary target directory and
#                               check the result is byte-identical to wasm/
#
# Reproducibility: the lock file is used as is (--locked), one job at a time,
# and paths that could end up in the binaries (panic locations) are remapped:
# the cargo home to /cargo and the repository to /soru. The toolchain used is
# recorded in RUSTC_VERSION; the same rustc gives the same bytes.
set -euo pipefail

cd "$(dirname "$0")"
kernels_dir=$(pwd -P)
repo=$(cd .. && pwd -P)
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)

kernels=(echo counter reboot installer hostfns trap loop-forever deep-recursion memory-grow tx compute durable-heavy big-code bridge)

export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$repo=/soru"
export CARGO_INCREMENTAL=0

target_dir="$kernels_dir/target"
verify=false
if [[ "${1:-}" == "--verify" ]]; then
    verify=true
    target_dir=$(mktemp -d)
    trap 'rm -rf "$target_dir"' EXIT
fi

packages=()
for k in "${kernels[@]}"; do packages+=(-p "$k"); done
cargo build --locked --release --target wasm32-unknown-unknown -j 1 --target-dir "$target_dir" "${packages[@]}"

status=0
mkdir -p wasm
for k in "${kernels[@]}"; do
    built="$target_dir/wasm32-unknown-unknown/release/${k//-/_}.wasm"
    if $verify; then
        if cmp -s "$built" "wasm/$k.wasm"; then
            echo "identical  $k.wasm"
        else
            echo "DIFFERENT  $k.wasm"
            status=1
        fi
    else
        install -m 0644 "$built" "wasm/$k.wasm"
    fi
done

if $verify; then
    if [[ "$(rustc -V)" != "$(cat RUSTC_VERSION)" ]]; then
        echo "note: rustc is $(rustc -V), the committed kernels were built with $(cat RUSTC_VERSION)"
    fi
    exit $status
fi
rustc -V > RUSTC_VERSION
(cd wasm && sha256sum "${kernels[@]/%/.wasm}")
