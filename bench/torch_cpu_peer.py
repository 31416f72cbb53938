# The PyTorch peer of `Dsl.Bench --suite cpu`: one training step (forward, cross-entropy, backward,
# update; SGD lr 0.01, W2 Adam lr 1e-2, W5 Adam lr 1e-3) of W1, W2, W3, W1R and W5, timed like ours, on request, so the bench can alternate blocks of
# PyTorch's steps with blocks of ours and compare each pair measured within a second or two.
# Reads one request per line on stdin and answers each with one line on stdout:
#   version                        -> torch's version
#   step WORKLOAD THREADS STEPS    -> microseconds per step over STEPS steps (W1, W2, W3, W1R, W5) on THREADS
#                                     intra-op threads; the first request for a workload builds its
#                                     network and batch (seed 0) and warms it up
#   sgemm THREADS [N]              -> torch.mm of two N x N float32 matrices (default 2048; OpenBLAS's sgemm) in
#                                     GFLOP/s on THREADS threads, the best of 3 blocks of about 0.2 s
#   isa                            -> the instruction sets PyTorch uses: its CPU capability and OpenBLAS's kernels
#   quit
# A malformed request gets "error ..." and the peer goes on.
# usage: /usr/bin/python3 torch_cpu_peer.py
import blas_core  # before torch: OpenBLAS's kernels for this CPU
import ctypes, sys, time
import torch
import torch_models

WORKLOADS = {"W1": ([40, 100, 100, 10], 100), "W2": ([40, 10], 100), "W3": ([784, 1024, 1024, 10], 256), "W1R": ([40, 100, 10], 100), "W5": ([40, 256, 10], 256)}
built = {}
try:
    _openblas = ctypes.CDLL("libopenblas.so.0")
except OSError:
    _openblas = None


def set_threads(threads):
    # torch.set_num_threads leaves OpenBLAS's own pthread pool (every core) alone; both must be set.
    torch.set_num_threads(threads)
    if _openblas is not None:
        _openblas.openblas_set_num_threads(threads)



def build(name):
    widths, batch = WORKLOADS[name]
    torch.manual_seed(0)
    model = (torch_models.ResidualMlp() if name == "W1R" else torch_models.deep_residual() if name == "W5"
             else torch_models.Cnn() if name == "W2" else torch_models.mlp(widths))
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if name == "W5" else torch.optim.Adam(model.parameters(), lr=1e-2) if name == "W2"
           else torch.optim.SGD(model.parameters(), lr=0.01))
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, widths[0]) * 2 - 1
    y = torch.randint(0, widths[-1], (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(20):
        step()
    return step


def step_us(name, threads, steps):
    if name not in built:
        built[name] = build(name)
    step = built[name]
    set_threads(threads)
    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) * 1e6 / steps


def sgemm(threads, n):
    set_threads(threads)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    flops = 2 * n ** 3
    torch.mm(a, b, out=c)
    t = time.perf_counter()
    torch.mm(a, b, out=c)
    reps = max(3, int(0.2 / max(time.perf_counter() - t, 1e-6)))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        best = min(best, (time.perf_counter() - t) / reps)
    return flops / best / 1e9


def isa():
    capability = (torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability")
                  else next((line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines() if "CPU capability usage" in line), "unknown"))
    try:
        _openblas.openblas_get_corename.restype = ctypes.c_char_p
        core = _openblas.openblas_get_corename().decode()
    except AttributeError:
        core = "unknown"
    return f"torch CPU capability {capability}, OpenBLAS kernels {core}"


for line in sys.stdin:
    words = line.split()
    try:
        if words == ["quit"]:
            break
        if words == ["version"]:
            answer = torch.__version__.split("a")[0].split("+")[0]
        elif len(words) == 4 and words[0] == "step" and words[1] in WORKLOADS and int(words[2]) > 0 and int(words[3]) > 0:
            answer = f"{step_us(words[1], int(words[2]), int(words[3])):.1f}"
        elif len(words) in (2, 3) and words[0] == "sgemm" and all(int(w) > 0 for w in words[1:]):
            answer = f"{sgemm(int(words[1]), int(words[2]) if len(words) == 3 else 2048):.1f}"
        elif words == ["isa"]:
            answer = isa()
        else:
            answer = "error unknown request (threads and steps must be positive): " + line.strip()
    except Exception as e:  # any failure is answered; the peer goes on
        answer = f"error {type(e).__name__}: {e}"
    print(answer, flush=True)
