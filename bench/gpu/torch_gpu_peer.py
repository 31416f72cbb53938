"""PyTorch GPU peer of `Dsl.Bench --suite gpu`.

One SGD training step (lr 0.01) of an MLP with ReLU and softmax cross-entropy, in fp32 with TF32 off,
timed two ways on the same GPU:
  eager: zero_grad + forward + cross-entropy + backward + optimizer step, launched from Python;
  graph: that whole step captured once in a CUDA graph and replayed (PyTorch's fastest for small nets).
Timing matches ours: a warm-up, then the median of five blocks of steps, each block ended by
torch.cuda.synchronize() and read from the host clock, in microseconds per step.

Prints, per workload:  W1 peer_eager_us=NNN.N peer_graph_us=NNN.N
and '#' comment lines naming the GPU and the versions.

usage: python3 torch_gpu_peer.py [--workloads W1,W3,W4] [--steps-scale F]
"""
import argparse
import statistics
import sys
import time

import torch

# id, layer widths, batch, timed steps (split into five blocks); the same as GpuSuite.cs.
WORKLOADS = [
    ("W1", [40, 100, 100, 10], 100, 2000),
    ("W3", [784, 1024, 1024, 10], 256, 500),
    ("W4", [1024, 4096, 4096, 1024], 4096, 25),
]
BLOCKS = 5


def build(widths, batch, device):
    """A fresh seeded model, its SGD optimizer, loss and one fixed batch (inputs uniform in [-1, 1))."""
    torch.manual_seed(1)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs = torch.rand(batch, widths[0], device=device) * 2 - 1
    labels = torch.randint(0, widths[-1], (batch,), device=device)

    def step():
        # set_to_none=False keeps the gradient buffers in place, as a captured graph needs.
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step


def median_step_us(run_step, steps):
    """Median over five synchronised blocks of microseconds per step, after a warm-up."""
    per_block = max(1, steps // BLOCKS)
    for _ in range(max(3, steps // 10)):
        run_step()
    torch.cuda.synchronize()
    blocks = []
    for _ in range(BLOCKS):
        start = time.perf_counter()
        for _ in range(per_block):
            run_step()
        torch.cuda.synchronize()
        blocks.append((time.perf_counter() - start) * 1e6 / per_block)
    return statistics.median(blocks)


def captured(step):
    """The step captured in a CUDA graph: warmed up on a side stream first, as capture requires."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W3,W4", help="comma-separated ids")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiplies every step count")
    args = parser.parse_args()
    wanted = {w.strip().upper() for w in args.workloads.split(",") if w.strip()}

    if not torch.cuda.is_available():
        print("torch_gpu_peer: CUDA is not available to PyTorch", file=sys.stderr)
        return 1
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    device = torch.device("cuda", 0)
    print(f"# peer device: {torch.cuda.get_device_name(device)}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, fp32 with TF32 off", flush=True)

    for name, widths, batch, steps in WORKLOADS:
        if name not in wanted:
            continue
        steps = max(BLOCKS, round(steps * args.steps_scale))
        eager_us = median_step_us(build(widths, batch, device), steps)
        # The graph side gets its own fresh model, so both start from the same state.
        graph_us = median_step_us(captured(build(widths, batch, device)), steps)
        flops = 6.0 * batch * sum(widths[i] * widths[i + 1] for i in range(len(widths) - 1))
        print(f"# {name} {'-'.join(map(str, widths))} batch {batch}: eager {eager_us:.1f} us "
              f"({flops / eager_us / 1e6:.2f} TFLOP/s), graph {graph_us:.1f} us "
              f"({flops / graph_us / 1e6:.2f} TFLOP/s)")
        print(f"{name} peer_eager_us={eager_us:.1f} peer_graph_us={graph_us:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
