#!/usr/bin/env bash
# Builds the GPU benchmark bundle here, for a linux-x64 machine with a GPU but no .NET SDK and no network:
# a self-contained, untrimmed publish of bench/Dsl.Bench (ILGPU reads kernels' IL by reflection, so
# nothing may be trimmed), the PyTorch peer script and run.sh, in one compressed archive:
#   bench/gpu/out/dsl-bench-gpu.tar.gz   (one top-level folder, dsl-bench-gpu/)
# The archive must stay under 60 MB: the device machine receives it inside the working tree (64 MiB).
# bench/gpu/out/ holds only the archive; it is a build output and must not be committed.
#
# usage: bash bench/gpu/bundle.sh
#   By default our assemblies and ILGPU are precompiled ReadyToRun: ILGPU's kernel compiler is .NET code, and
#   without it the .NET JIT compiles that compiler during the first step (measured on ILGPU's CPU simulator,
#   2026-11-26: network creation, where the kernels compile, 709-768 ms without and 300-368 ms with, for
#   W1 in a fresh process). The archive grows from 36.2 to 37.7 MB; it needs the crossgen package from NuGet.
#   BUNDLE_R2R=0   skip the precompilation.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$here/out"
archive="$out/dsl-bench-gpu.tar.gz"
limit_bytes=$((60 * 1000 * 1000))

# Publish into a scratch folder outside the working tree, so only the archive travels to the device.
stage="$(mktemp -d "${TMPDIR:-/tmp}/dsl-bench-gpu-stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/dsl-bench-gpu"

# Build outputs go to their own artifacts folder, kept between runs for speed, so this publish (with
# its runtime identifier) never rewrites the obj/ and bin/ folders that everyday builds use.
artifacts="${DSL_BENCH_ARTIFACTS:-${TMPDIR:-/tmp}/dsl-bench-gpu-artifacts}"

# Self-contained and untrimmed; no symbols or docs; invariant globalization (no ICU needed there).
publish_args=(
    -c Release
    -r linux-x64
    --self-contained true
    -o "$bundle"
    --artifacts-path "$artifacts"
    -p:PublishTrimmed=false
    -p:PublishSingleFile=false
    -p:InvariantGlobalization=true
    -p:DebugType=none
    -p:DebugSymbols=false
    -p:GenerateDocumentationFile=false
    -p:SatelliteResourceLanguages=en
)
if [[ "${BUNDLE_R2R:-1}" == "1" ]]; then
    publish_args+=(-p:PublishReadyToRun=true)
fi
dotnet publish "$repo/bench/Dsl.Bench/Dsl.Bench.csproj" "${publish_args[@]}"

# The peer and the runner travel beside the binary.
cp "$here/torch_gpu_peer.py" "$here/run.sh" "$bundle/"
# Leftovers the runtime does not need on the device.
rm -f "$bundle"/*.pdb "$bundle"/*.xml "$bundle"/torch_cpu_peer.py

mkdir -p "$out"
rm -f "$archive"
# gzip: every tar on a bare machine can read it.
tar -C "$stage" -cf - dsl-bench-gpu | gzip -9 > "$archive"

size=$(stat -c %s "$archive")
echo "bundle: $archive"
echo "size: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB; unpacked $(du -sh "$bundle" | cut -f1), $(find "$bundle" -type f | wc -l) files)"
if ((size >= limit_bytes)); then
    echo "bundle.sh: the archive is $size bytes, over the $limit_bytes-byte limit" >&2
    exit 1
fi
