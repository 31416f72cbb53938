"""PyTorch GPU peer of `Dsl.Bench --suite gpu`.

One training step with softmax cross-entropy, in fp32 with TF32 off: SGD lr 0.01 for the MLPs (W1, W3, W4) and the
residual MLP (W1R), Adam lr 1e-2 for the MNIST-1D CNN (W2) and Adam lr 1e-3 for the pre-norm residual MLP (W5; the
models are bench/torch_models.py's), timed two ways on the same GPU:
  eager: zero_grad + forward + cross-entropy + backward + optimizer step, launched from Python;
  graph: that whole step captured once in a CUDA graph and replayed (PyTorch's fastest for small nets).
Timing matches ours: a warm-up, then the median of five blocks of steps, each block ended by
torch.cuda.synchronize() and read from the host clock, in microseconds per step.

Prints, per workload:  W1 peer_eager_us=NNN.N peer_graph_us=NNN.N
and '#' comment lines naming the GPU and the versions.

usage: python3 torch_gpu_peer.py [--workloads W1,W2,W3,W4,W1R,W5] [--steps-scale F]
"""
import argparse
import statistics
import sys
import time

import torch

import torch_models

# id, model, input and output widths, batch, timed steps (split into five blocks), Adam's learning rate (None: SGD lr
# 0.01); the same as GpuSuite.cs. W2's model reads its 40 inputs as (1, 40).
WORKLOADS = [
    ("W1", lambda: torch_models.mlp([40, 100, 100, 10]), 40, 10, 100, 2000, None),
    ("W2", torch_models.Cnn, 40, 10, 100, 2000, 1e-2),
    ("W3", lambda: torch_models.mlp([784, 1024, 1024, 10]), 784, 10, 256, 500, None),
    ("W4", lambda: torch_models.mlp([1024, 4096, 4096, 1024]), 1024, 1024, 4096, 25, None),
    ("W1R", torch_models.ResidualMlp, 40, 10, 100, 2000, None),
    ("W5", torch_models.deep_residual, 40, 10, 256, 200, 1e-3),
]
BLOCKS = 5


def build(create, inputs_width, classes, batch, adam_lr, device, capturable=False):
    """
    A fresh seeded model, its optimizer (Adam at adam_lr, or SGD lr 0.01 when it is None), loss and one fixed batch
    (inputs uniform in [-1, 1)), and the step's floating-point operations. Adam's step is captured in a CUDA graph only
    when it was made capturable (its step count then lives on the GPU).
    """
    torch.manual_seed(1)
    model = create().to(device)
    optimizer = (torch.optim.Adam(model.parameters(), lr=adam_lr, capturable=capturable) if adam_lr is not None
                 else torch.optim.SGD(model.parameters(), lr=0.01))
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs = torch.rand(batch, inputs_width, device=device) * 2 - 1
    labels = torch.randint(0, classes, (batch,), device=device)

    def step():
        # set_to_none=False keeps the gradient buffers in place, as a captured graph needs.
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return step, 6.0 * batch * multiply_adds(model, inputs)


def multiply_adds(model, inputs):
    """Multiply-adds of one sample's forward: each Linear's weights, and each convolution's weights times its output positions."""
    counts = []

    def count(module, _, output):
        positions = output[0, 0].numel() if isinstance(module, torch.nn.modules.conv._ConvNd) else 1
        counts.append(module.weight.numel() * positions)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd))]
    with torch.no_grad():
        model(inputs[:1])
    for hook in hooks:
        hook.remove()
    return sum(counts)


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
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W1R,W5", help="comma-separated ids")
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

    for name, create, inputs_width, classes, batch, steps, adam_lr in WORKLOADS:
        if name not in wanted:
            continue
        steps = max(BLOCKS, round(steps * args.steps_scale))
        step, flops = build(create, inputs_width, classes, batch, adam_lr, device)
        eager_us = median_step_us(step, steps)
        # The graph side gets its own fresh model, so both start from the same state.
        graph_us = median_step_us(captured(build(create, inputs_width, classes, batch, adam_lr, device, capturable=True)[0]), steps)
        print(f"# {name} batch {batch}: eager {eager_us:.1f} us "
              f"({flops / eager_us / 1e6:.2f} TFLOP/s), graph {graph_us:.1f} us "
              f"({flops / graph_us / 1e6:.2f} TFLOP/s)")
        print(f"{name} peer_eager_us={eager_us:.1f} peer_graph_us={graph_us:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
