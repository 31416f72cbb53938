# The PyTorch models of the main job's --model choices and of the bench's graph workloads, shared by
# bench/torch_mnist1d.py and bench/torch_cpu_peer.py (each imports it from its own directory).
import torch


class ResidualMlp(torch.nn.Module):
    """The MNIST-1D authors' MLP (W1R, --model residual-mlp): h = relu(l1(x)); h = h + relu(l2(h)); l3(h)."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = torch.nn.Linear(40, 100), torch.nn.Linear(100, 100), torch.nn.Linear(100, 10)

    def forward(self, x):
        h = self.l1(x).relu()
        h = h + self.l2(h).relu()
        return self.l3(h)


class PreNormBlock(torch.nn.Module):
    """W5's block: x + Linear(gelu(Linear(LayerNorm(x))))."""

    def __init__(self, width):
        super().__init__()
        self.norm, self.up, self.down = torch.nn.LayerNorm(width), torch.nn.Linear(width, width), torch.nn.Linear(width, width)

    def forward(self, x):
        return x + self.down(torch.nn.functional.gelu(self.up(self.norm(x))))


def deep_residual():
    """W5 (--model deep-residual): Linear(40, 256), 8 pre-norm residual blocks, a final LayerNorm, Linear(256, 10)."""
    return torch.nn.Sequential(torch.nn.Linear(40, 256), *[PreNormBlock(256) for _ in range(8)], torch.nn.LayerNorm(256), torch.nn.Linear(256, 10))


def mlp(widths):
    """Linear layers of the given widths with ReLU between them (W1: [40, 100, 100, 10])."""
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class Cnn(torch.nn.Module):
    """The MNIST-1D authors' CNN (W2, --model cnn): three Conv1d(25) with ReLU, flatten (125), Linear(125, 10); 5,210 parameters."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(1, 25, 5, stride=2, padding=1)
        self.conv2 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.linear = torch.nn.Linear(125, 10)

    def forward(self, x):
        h = x.view(-1, 1, 40)
        h = self.conv1(h).relu()
        h = self.conv2(h).relu()
        h = self.conv3(h).relu()
        return self.linear(h.flatten(1))
