# The PyTorch peer of `Dsl.Bench --suite cpu`: one SGD training step (forward, cross-entropy,
# backward, update) of W1 and W3, timed like ours (median of five blocks after a warm-up).
# Each workload runs with 1 and with THREADS intra-op threads and reports the faster (on this 2-core
# machine Debian's torch 1.13 with OpenBLAS is ~3.5x slower on W1 with 2 threads than with 1).
# Prints "KEY VALUE" lines: version, W1/W3 step microseconds and the thread count that gave them,
# OpenBLAS sgemm 2048 GFLOP/s.
# usage: /usr/bin/python3 torch_cpu_peer.py THREADS
import statistics, sys, time
import torch

torch.manual_seed(0)
max_threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2


def step_us(widths, batch, steps):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, widths[0]) * 2 - 1
    y = torch.randint(0, widths[-1], (batch,))

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(max(20, steps // 10)):
        step()
    blocks = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(steps // 5):
            step()
        blocks.append((time.perf_counter() - t) * 1e6 / (steps // 5))
    return statistics.median(blocks)


def best(widths, batch, steps):
    timings = {}
    for threads in sorted({1, max_threads}):
        torch.set_num_threads(threads)
        timings[threads] = step_us(widths, batch, steps)
    threads = min(timings, key=timings.get)
    return timings[threads], threads, timings


print("version", torch.__version__.split("a")[0].split("+")[0])
for name, widths, batch, steps in [("W1", [40, 100, 100, 10], 100, 4000), ("W3", [784, 1024, 1024, 10], 256, 60)]:
    us, threads, timings = best(widths, batch, steps)
    print(name, f"{us:.1f}")
    print(name + "_threads", threads)
    for t, v in sorted(timings.items()):
        print(f"{name}_at_{t}_threads", f"{v:.1f}")
torch.set_num_threads(max_threads)
a = torch.randn(2048, 2048)
b = torch.randn(2048, 2048)
for _ in range(3):
    a @ b
t = time.perf_counter()
for _ in range(10):
    a @ b
print("sgemm2048", f"{2 * 2048 ** 3 * 10 / (time.perf_counter() - t) / 1e9:.1f}")
