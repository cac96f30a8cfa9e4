"""Training and inference throughput, and how fit time grows.

    python -m benchmarks.throughput            # writes results/throughput.md
    python -m benchmarks.throughput --smoke

Three tables on synthetic rows (64 features in [0, 1], 10 latent dims,
MLP 256-256):
1. samples/s of ``fit`` (per epoch, after the one-off neighbour search) and
   of ``transform`` for n = 1k ... 100k, beside a plain PyTorch loop over the
   same module, objective, partner draws and anchor initialisation; the
   ratio is skorch's overhead.
2. fit seconds against n_anchors at fixed n.
The neighbour search (an exact k-NN, O(n^2 d)) is timed on its own.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import make_blobs

from sknebula import NebulaVariationalClusterer
from sknebula._callbacks import init_anchors_from_data
from sknebula._data import neighbour_table
from sknebula.nn import NebulaVAE, build_encoder_decoder
from sknebula.objectives.nebula import NebulaLoss

from ._common import markdown_table, write_result

EPOCHS = 4
WARMUP = 2


def synthetic(n, seed=0):
    X, _ = make_blobs(n_samples=n, centers=10, n_features=64, random_state=seed)
    return ((X - X.min()) / (X.max() - X.min())).astype(np.float32)


def plain_torch_fit(X, neighbours, device, batch_size=256, seed=0):
    """The estimator's training, written as a bare loop (no skorch)."""
    torch.manual_seed(seed)
    enc, dec = build_encoder_decoder("mlp", X.shape[1:], X.shape[1:], 10, (256, 256))
    module = NebulaVAE(enc, dec, 10, 10).to(device)
    criterion = NebulaLoss(reconstruction="bernoulli")
    opt = torch.optim.Adam(module.parameters(), lr=2e-3)
    Xt = torch.as_tensor(X)
    nb = torch.as_tensor(neighbours)

    class _Net:  # what init_anchors_from_data reads
        module_ = module
    _Net.device = device
    for epoch in range(EPOCHS):
        module.train()
        for idx in torch.randperm(len(X)).split(batch_size):
            partner = nb[idx, torch.randint(nb.shape[1], (len(idx),))]
            x, p = Xt[idx].to(device), Xt[partner].to(device)
            loss = criterion(module(x, p), x, module)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch + 1 == WARMUP:
            init_anchors_from_data(_Net, X, seed)
    return module


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 3000, 10000, 30000, 100000])
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    sizes = [300] if args.smoke else args.sizes
    anchors = [5] if args.smoke else [5, 10, 20, 40, 80]
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device

    # One throwaway run of each, so that one-off start-up costs (thread
    # pools, allocator, first kernel calls) are not charged to the first size.
    X = synthetic(500)
    NebulaVariationalClusterer(max_epochs=EPOCHS, warmup_epochs=WARMUP, device=device).fit(X)
    plain_torch_fit(X, neighbour_table(X, 20), device)

    rows = []
    for n in sizes:
        X = synthetic(n)
        knn_s, neighbours = timed(lambda: neighbour_table(X, 20))
        est = NebulaVariationalClusterer(max_epochs=EPOCHS, warmup_epochs=WARMUP, device=device,
                                         random_state=0)
        fit_s, _ = timed(lambda: est.fit(X))
        fit_s -= knn_s  # both sides pay the same neighbour search; compare training
        loop_s, _ = timed(lambda: plain_torch_fit(X, neighbours, device))
        tr_s, _ = timed(lambda: est.transform(X))
        rows.append([n, f"{knn_s:.1f}", f"{n * EPOCHS / fit_s:,.0f}", f"{n * EPOCHS / loop_s:,.0f}",
                     f"{100 * (fit_s / loop_s - 1):+.0f}%", f"{n / tr_s:,.0f}"])
        print(rows[-1], flush=True)
    t1 = markdown_table(["n", "k-NN s", "fit samples/s (skorch)", "fit samples/s (plain torch)",
                         "skorch overhead", "transform samples/s"], rows)

    n_fixed = 300 if args.smoke else 5000
    X = synthetic(n_fixed)
    rows2 = []
    for k in anchors:
        est = NebulaVariationalClusterer(n_anchors=k, max_epochs=EPOCHS, warmup_epochs=WARMUP,
                                         device=device, random_state=0)
        fit_s, _ = timed(lambda: est.fit(X))
        rows2.append([k, f"{fit_s:.2f}"])
    t2 = markdown_table(["n_anchors", f"fit s (n={n_fixed})"], rows2)
    body = (f"device: {device}; {EPOCHS} epochs ({WARMUP} warm-up), batch 256. fit samples/s counts "
            f"training epochs only (the k-NN search is reported apart).\n\n{t1}\n\n{t2}")
    write_result("throughput", "Throughput", body, smoke=args.smoke)


if __name__ == "__main__":
    main()
