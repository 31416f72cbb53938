# The main job's recipe in PyTorch, for accuracy parity and wall time on the same machine: the plain PyTorch
# MNIST-1D MLP run (40-100-100-10, Adam lr 1e-2, batch 100, 8000 steps) plus the options the main job has: a seed, Adam's weight decay
# and the weight average over the last steps (every 10th step counted back from the last, float64 sums).
# usage: /usr/bin/python3 bench/torch_mnist1d.py DATA.csv [--model mlp|residual-mlp|deep-residual|cnn] [--seed N] [--steps N] [--weight-decay X] [--average-last N]
# The models are the main job's --model choices: mlp (40-100-100-10), residual-mlp (the MNIST-1D authors' MLP,
# h = relu(l1(x)); h = h + relu(l2(h)); l3(h)) and deep-residual (Linear(40, 256), 8 pre-norm residual blocks
# x + Linear(256, 256)(gelu(Linear(256, 256)(LayerNorm(x)))), a final LayerNorm, Linear(256, 10)) and cnn (the MNIST-1D
# authors' CNN: three Conv1d(25) with ReLU over the sample as (1, 40), flatten, Linear(125, 10)).
# DATA.csv from: dotnet run --project examples/Mnist1d -c Release -- dataset --out DATA.csv
# Defaults are the main job's (weight decay 1e-3, average over the last quarter); --weight-decay 0
# --average-last 0 is the plain recipe.
import blas_core  # before torch: OpenBLAS's kernels for this CPU
import argparse, time, torch
import torch_models

parser = argparse.ArgumentParser()
parser.add_argument('data')
parser.add_argument('--model', choices=['mlp', 'residual-mlp', 'deep-residual', 'cnn'], default='mlp')
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--steps', type=int, default=8000)
parser.add_argument('--weight-decay', type=float, default=1e-3)
parser.add_argument('--average-last', type=int, default=None)
args = parser.parse_args()
average_last = args.steps // 4 if args.average_last is None else args.average_last
every = 10
# As the main job: an explicit --average-last of 1..9 is refused; the default (a quarter of the steps) is not.
explicit_short = args.average_last is not None and 0 < args.average_last < every
if args.steps <= 0 or args.weight_decay < 0 or not 0 <= average_last <= args.steps or explicit_short:
    parser.error(f'need --steps > 0, --weight-decay >= 0 and --average-last 0 or in [{every}, steps]')

torch.manual_seed(args.seed); torch.set_num_threads(1)
rows = [list(map(float, l.split(','))) for l in open(args.data) if l.strip() and not l[0].isalpha()]
data = torch.tensor(rows, dtype=torch.float64)
x = data[:4000, 1:].float(); y = data[:4000, 0].long()
xt = data[4000:, 1:].float(); yt = data[4000:, 0].long()

m = {'mlp': lambda: torch_models.mlp([40, 100, 100, 10]), 'residual-mlp': torch_models.ResidualMlp, 'deep-residual': torch_models.deep_residual, 'cnn': torch_models.Cnn}[args.model]()
opt = torch.optim.Adam(m.parameters(), lr=1e-2, weight_decay=args.weight_decay)
lf = torch.nn.CrossEntropyLoss()
sums = [torch.zeros_like(p, dtype=torch.float64) for p in m.parameters()]
snapshots = 0
# Timed like the reference script: drawing and indexing the batch are inside (and here the snapshots too); the
# main job's "training steps" time covers TrainStep alone.
t0 = time.perf_counter()
for step in range(1, args.steps + 1):
    i = torch.randint(0, 4000, (100,))
    opt.zero_grad(); l = lf(m(x[i]), y[i]); l.backward(); opt.step()
    if step > args.steps - average_last and (args.steps - step) % every == 0:
        with torch.no_grad():
            for s, p in zip(sums, m.parameters()):
                s += p.double()
        snapshots += 1
dt = time.perf_counter() - t0
with torch.no_grad():
    last = (m(xt).argmax(1) == yt).float().mean().item()
    if snapshots:
        for s, p in zip(sums, m.parameters()):
            p.copy_((s / snapshots).float())
    acc = (m(xt).argmax(1) == yt).float().mean().item()
print(f'{args.model} seed {args.seed}: {args.steps} steps in {dt:.2f} s ({dt/args.steps*1e6:.0f} us/step), weight decay {args.weight_decay}, '
      f'{snapshots} snapshots averaged; last step test accuracy {last:.4f}; test accuracy {acc:.4f}')
