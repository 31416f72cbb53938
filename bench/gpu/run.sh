#!/usr/bin/env bash
# Runs the GPU benchmark on a machine with an NVIDIA driver and python3 + PyTorch (CUDA), no .NET SDK
# needed: our self-contained Dsl.Bench (--suite gpu) first, then the PyTorch peer on the same GPU, one
# after the other so they never share it. Prints both raw outputs, then one joined line per workload:
#   W1 gpu step_us ours=NN.N peer_eager=NNN.N peer_graph=NNN.N first_step_ms=NNN.N
#
# usage: bash bench/gpu/run.sh [BUNDLE] [Dsl.Bench options...]
#   BUNDLE: the archive bench/gpu/bundle.sh made (default bench/gpu/out/dsl-bench-gpu.tar.gz), or a
#           folder where it is already unpacked.
#   Options after BUNDLE go to Dsl.Bench (e.g. --workloads W1 --steps-scale 0.5); --workloads and
#   --steps-scale are passed on to the peer too.
# Where $OUT is set (the device machine), the raw outputs are also written there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bundle="${1:-$here/out/dsl-bench-gpu.tar.gz}"
if [[ $# -gt 0 ]]; then
    shift
fi
bench_args=("$@")

# Unpack the archive (or take the folder as it is).
if [[ -d "$bundle" ]]; then
    dir="$bundle"
elif [[ -f "$bundle" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dsl-bench-gpu.XXXXXX")"
    tar -xf "$bundle" -C "$dir"   # GNU tar picks the decompressor from the archive itself
    # The archive holds one top-level folder.
    if [[ -d "$dir/dsl-bench-gpu" ]]; then
        dir="$dir/dsl-bench-gpu"
    fi
else
    echo "run.sh: no bundle at '$bundle' (build it with bench/gpu/bundle.sh)" >&2
    exit 2
fi
for file in Dsl.Bench torch_gpu_peer.py torch_models.py; do
    if [[ ! -f "$dir/$file" ]]; then
        echo "run.sh: '$dir' has no $file" >&2
        exit 2
    fi
done
chmod +x "$dir/Dsl.Bench"

# The peer takes the same workload selection and step scale as ours.
peer_args=()
for ((i = 0; i < ${#bench_args[@]}; i++)); do
    case "${bench_args[$i]}" in
        --workloads | --steps-scale)
            if ((i + 1 < ${#bench_args[@]})); then
                peer_args+=("${bench_args[$i]}" "${bench_args[$((i + 1))]}")
            fi
            ;;
    esac
done

# The NVIDIA driver's libraries (libcuda.so, which ILGPU opens by name) where the device image keeps them,
# as a fallback after whatever the environment already names.
if [[ -d /usr/local/nvidia/lib64 ]]; then
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64"
fi

logs="$(mktemp -d "${TMPDIR:-/tmp}/dsl-bench-gpu-logs.XXXXXX")"
ours="$logs/ours.txt"
peer="$logs/peer.txt"

# Ours. A failure is reported, and the peer still runs, so one side's numbers are never lost.
# No ICU on a bare machine: the bundle is built with invariant globalization, and this makes sure.
echo "== ours: $dir/Dsl.Bench --suite gpu --no-peer ${bench_args[*]:-}"
ours_rc=0
DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$dir/Dsl.Bench" --suite gpu --no-peer "${bench_args[@]}" 2>&1 | tee "$ours" || ours_rc=$?

echo "== peer: python3 torch_gpu_peer.py ${peer_args[*]:-}"
peer_rc=0
PYTHONUNBUFFERED=1 python3 "$dir/torch_gpu_peer.py" "${peer_args[@]}" 2>&1 | tee "$peer" || peer_rc=$?

if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
    cp "$ours" "$OUT/ours.txt"
    cp "$peer" "$OUT/peer.txt"
fi

# Join: ours' "W1 gpu step_us ours=X first_step_ms=Y" with the peer's "W1 peer_eager_us=A peer_graph_us=B".
echo "== joined"
grep -h '^#' "$ours" "$peer" | grep -E '^# (device|peer device):' || true
awk '
    # value of KEY=VALUE among the fields of the current line
    function field(key,    i, n) {
        n = length(key) + 1
        for (i = 1; i <= NF; i++) if (substr($i, 1, n) == key "=") return substr($i, n + 1)
        return "n/a"
    }
    FILENAME == ARGV[1] && $2 == "gpu" && $3 == "step_us" { order[++count] = $1; ours[$1] = field("ours"); first[$1] = field("first_step_ms") }
    FILENAME == ARGV[2] && $1 ~ /^W[0-9]+$/ { eager[$1] = field("peer_eager_us"); graph[$1] = field("peer_graph_us") }
    END {
        for (i = 1; i <= count; i++) {
            id = order[i]
            e = (id in eager) ? eager[id] : "n/a"
            g = (id in graph) ? graph[id] : "n/a"
            print id " gpu step_us ours=" ours[id] " peer_eager=" e " peer_graph=" g " first_step_ms=" first[id]
        }
        # speedup = peer time / our time: above 1 means we are faster
        for (i = 1; i <= count; i++) {
            id = order[i]
            if (id in eager && id in graph && ours[id] > 0)
                printf "# %s speedup vs PyTorch eager %.2fx, vs PyTorch CUDA graph %.2fx\n", id, eager[id] / ours[id], graph[id] / ours[id]
        }
    }
' "$ours" "$peer" | tee "$logs/joined.txt"
if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
    cp "$logs/joined.txt" "$OUT/joined.txt"
fi

if ((ours_rc != 0 || peer_rc != 0)); then
    echo "run.sh: ours exited $ours_rc, peer exited $peer_rc" >&2
    exit 1
fi
