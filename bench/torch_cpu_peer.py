# The PyTorch peer of `Dsl.Bench --suite cpu`: one training step (forward, cross-entropy, backward,
# update; SGD lr 0.01, W2 Adam lr 1e-2, W5 Adam lr 1e-3) of W1, W2, W3, W1R and W5, timed like ours, on request, so the bench can alternate blocks of
# PyTorch's steps with blocks of ours and compare each pair measured within a second or two.
# Reads one request per line on stdin and answers each with one line on stdout:
#   version                        -> torch's version
#   step WORKLOAD THREADS STEPS    -> microseconds per step over STEPS steps (W1, W2, W3, W1R, W5) on THREADS
#                                     intra-op threads; the first request for a workload builds its
#                                     network and batch (seed 0) and warms it up
#   sgemm THREADS                  -> OpenBLAS sgemm 2048 x 2048 GFLOP/s on THREADS threads
#   quit
# A malformed request gets "error ..." and the peer goes on.
# usage: /usr/bin/python3 torch_cpu_peer.py
import sys, time
import torch
import torch_models

WORKLOADS = {"W1": ([40, 100, 100, 10], 100), "W2": ([40, 10], 100), "W3": ([784, 1024, 1024, 10], 256), "W1R": ([40, 100, 10], 100), "W5": ([40, 256, 10], 256)}
built = {}



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
    torch.set_num_threads(threads)
    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) * 1e6 / steps


def sgemm(threads):
    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(10):
        a @ b
    return 2 * 2048 ** 3 * 10 / (time.perf_counter() - t) / 1e9


for line in sys.stdin:
    words = line.split()
    try:
        if words == ["quit"]:
            break
        if words == ["version"]:
            answer = torch.__version__.split("a")[0].split("+")[0]
        elif len(words) == 4 and words[0] == "step" and words[1] in WORKLOADS and int(words[2]) > 0 and int(words[3]) > 0:
            answer = f"{step_us(words[1], int(words[2]), int(words[3])):.1f}"
        elif len(words) == 2 and words[0] == "sgemm" and int(words[1]) > 0:
            answer = f"{sgemm(int(words[1])):.1f}"
        else:
            answer = "error unknown request (threads and steps must be positive): " + line.strip()
    except Exception as e:  # any failure is answered; the peer goes on
        answer = f"error {type(e).__name__}: {e}"
    print(answer, flush=True)
