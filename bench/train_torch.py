#!/usr/bin/python3
"""PyTorch reference for ddk-train: the same network, initialisation
scheme, data, optimiser, batch size and epochs, on one thread.

  train_torch.py TRAIN.ddk TEST.ddk [--hidden 48] [--no-ddk]
      [--feature-norm] [--epochs N] [--batch N] [--lr X] [--seed N]
      [--activation sigmoid|tanh|relu|identity] [--alpha A] [--beta B]
      [--freeze-ddk] [--draws torch|ddk] [--reassociate]

--draws ddk takes the initial weights and the epoch permutations from
ddk-train's own generator (xoshiro256** keyed as in lib/rng.c and
lib/train.c) instead of PyTorch's, so that a run and the ddk-train run
of the same seed start from the same network and see the same batches:
the two then differ only in their arithmetic.

--reassociate computes each step as z + (alpha / z - beta x) instead of
(z + alpha / z) - beta x: the same mathematics, rounded differently.  Its
distance from a plain run is how far rounding alone moves a result.

Reads tensor streams (binary, ddk-stream(5)) as written by ddk-pool.
Prints one line per epoch (loss, train accuracy, seconds) and a final
line "test_accuracy X mean_epoch_s Y" on stdout.
"""
import argparse
import struct
import time

import numpy as np
import torch

from ddk_rng import Rng

FLOOR = 1e-3          # DDK_Z_FLOOR of ddk_kinetics.h
FNORM_EPS = 1e-8      # DDK_FNORM_EPS of ddk_nn.h


def read_stream(path):
    """All records of a binary tensor stream: x (n, U, T), labels."""
    data = open(path, "rb").read()
    xs, labels, pos = [], [], 0
    while pos < len(data):
        magic, ver, kl, ll, rows, cols = struct.unpack_from(
            "<4sIIIII", data, pos)
        assert magic == b"DDKS" and ver == 1, "not a binary ddk stream"
        pos += 24 + kl
        labels.append(data[pos:pos + ll].decode())
        pos += ll
        n = rows * cols
        xs.append(np.frombuffer(data, "<f4", n, pos).reshape(rows, cols))
        pos += 4 * n
    return np.stack(xs), labels


def class_order(names):
    """ddk-train's order: numeric when every label is an integer."""
    try:
        return sorted(names, key=int)
    except ValueError:
        return sorted(names)


def ddk_permutation(n, seed, epoch):
    """The order of ddk-train's epoch (lib/train.c, shuffle)."""
    g = Rng(seed, f"epoch {epoch}")
    idx = list(range(n))
    for i in range(n, 1, -1):
        j = g.below(i)
        idx[i - 1], idx[j] = idx[j], idx[i - 1]
    return torch.tensor(idx)


def ddk_init(net, seed, alpha, beta):
    """ddk-train's starting values (lib/net.c, ddk_net_init): the pair
    (drawn in [0, 1] unless given), then each dense layer's weights row
    by row and its biases, uniform draws rounded to float."""
    g = Rng(seed, "init")
    uni = lambda lo, hi, n: np.array(
        [lo + (hi - lo) * g.uniform() for _ in range(n)], np.float32)
    with torch.no_grad():
        if net.use_ddk:
            net.alpha.copy_(torch.from_numpy(uni(0.0, 1.0, 1))
                            if alpha is None else torch.tensor([alpha]))
            net.beta.copy_(torch.from_numpy(uni(0.0, 1.0, 1))
                           if beta is None else torch.tensor([beta]))
        for m in net.clf:
            if isinstance(m, torch.nn.Linear):
                r = 1 / np.sqrt(m.in_features)
                w = uni(-r, r, m.weight.numel())
                m.weight.copy_(torch.from_numpy(w).reshape(m.weight.shape))
                m.bias.copy_(torch.from_numpy(uni(-r, r, m.bias.numel())))


class DDKNet(torch.nn.Module):
    def __init__(self, U, T, hidden, classes, use_ddk, act, gen):
        super().__init__()
        self.use_ddk = use_ddk
        self.reassociate = False
        self.U, self.T = U, T
        if use_ddk:
            # alpha, beta uniform in [0, 1], as ddk-train
            self.alpha = torch.nn.Parameter(torch.rand(1, generator=gen))
            self.beta = torch.nn.Parameter(torch.rand(1, generator=gen))
        widths = [U * T] + hidden
        layers = []
        for a, b in zip(widths, widths[1:]):
            layers += [torch.nn.Linear(a, b), act()]
        layers.append(torch.nn.Linear(widths[-1], classes))
        self.clf = torch.nn.Sequential(*layers)
        self.register_buffer("mean", torch.zeros(U * T))
        self.register_buffer("inv_std", torch.ones(U * T))
        self.fnorm = False

    def features(self, x):
        if not self.use_ddk:
            return x.reshape(x.shape[0], -1)
        z = torch.ones(x.shape[0], self.U)
        out = []
        for t in range(self.T):     # RESET: z += alpha / z - beta x
            if self.reassociate:
                z = z + (self.alpha / z - self.beta * x[:, :, t])
            else:
                z = z + self.alpha / z - self.beta * x[:, :, t]
            z = torch.clamp(z, min=FLOOR)
            out.append(z)
        return torch.stack(out, 2).reshape(x.shape[0], -1)

    def forward(self, x):
        f = self.features(x)
        if self.fnorm:
            f = (f - self.mean) * self.inv_std
        return self.clf(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--hidden", default="none")
    ap.add_argument("--no-ddk", action="store_true")
    ap.add_argument("--feature-norm", action="store_true")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--activation", default="sigmoid")
    ap.add_argument("--alpha", type=float)
    ap.add_argument("--beta", type=float)
    ap.add_argument("--freeze-ddk", action="store_true")
    ap.add_argument("--draws", choices=("torch", "ddk"), default="torch")
    ap.add_argument("--reassociate", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    xtr, ltr = read_stream(a.train)
    xte, lte = read_stream(a.test)
    classes = class_order(set(ltr))
    index = {c: i for i, c in enumerate(classes)}
    xtr, xte = torch.from_numpy(xtr.copy()), torch.from_numpy(xte.copy())
    ytr = torch.tensor([index[s] for s in ltr])
    yte = torch.tensor([index.get(s, -1) for s in lte])
    hidden = [] if a.hidden == "none" else [int(h) for h in
                                            a.hidden.split(",")]
    act = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
           "relu": torch.nn.ReLU, "identity": torch.nn.Identity}
    net = DDKNet(xtr.shape[1], xtr.shape[2], hidden, len(classes),
                 not a.no_ddk, act[a.activation], gen)
    net.fnorm = a.feature_norm
    net.reassociate = a.reassociate
    if a.draws == "ddk":
        ddk_init(net, a.seed, a.alpha, a.beta)
    with torch.no_grad():       # starting values, as ddk-train's
        if a.alpha is not None and not a.no_ddk:
            net.alpha.fill_(a.alpha)
        if a.beta is not None and not a.no_ddk:
            net.beta.fill_(a.beta)
    if a.freeze_ddk and not a.no_ddk:
        net.alpha.requires_grad_(False)
        net.beta.requires_grad_(False)
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad],
                           lr=a.lr)
    lossf = torch.nn.CrossEntropyLoss()
    times = []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        if a.feature_norm and (epoch == 0 or not a.no_ddk):
            with torch.no_grad():       # statistics of the training set
                s = torch.zeros(net.U * net.T, dtype=torch.float64)
                q = torch.zeros_like(s)
                for i in range(0, len(xtr), 256):
                    f = net.features(xtr[i:i + 256]).double()
                    s += f.sum(0)
                    q += (f * f).sum(0)
                m = s / len(xtr)
                v = (q / len(xtr) - m * m).clamp(min=0)
                net.mean.copy_(m.float())
                net.inv_std.copy_((1 / torch.sqrt(v + FNORM_EPS)).float())
        if a.draws == "ddk":
            perm = ddk_permutation(len(xtr), a.seed, epoch)
        else:
            perm = torch.randperm(len(xtr), generator=gen)
        tot, right = 0.0, 0
        for i in range(0, len(xtr), a.batch):
            idx = perm[i:i + a.batch]
            out = net(xtr[idx])
            loss = lossf(out, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if not a.no_ddk:
                with torch.no_grad():
                    net.alpha.clamp_(0, 1)
                    net.beta.clamp_(0, 1)
            tot += loss.item() * len(idx)
            right += (out.argmax(1) == ytr[idx]).sum().item()
        times.append(time.perf_counter() - t0)
        print(f"epoch {epoch + 1} loss {tot / len(xtr):.5f} "
              f"train {right / len(xtr):.4f} {times[-1]:.2f} s",
              flush=True)
    with torch.no_grad():
        pred = torch.cat([net(xte[i:i + 1000]).argmax(1)
                          for i in range(0, len(xte), 1000)])
    acc = (pred == yte).float().mean().item()
    if not a.no_ddk:
        print(f"ddk alpha {net.alpha.item():.6f} beta {net.beta.item():.6f}")
    print(f"test_accuracy {acc:.4f} mean_epoch_s "
          f"{sum(times) / len(times):.3f}")


if __name__ == "__main__":
    main()
