"""Data-parallel training on torch.distributed: every rank fits its own
shard of the data, and together they train one model.

The estimators detect an initialised process group (for example under
``torchrun``) and then:

* average the gradients of every step over the ranks
  (:class:`GradientAllReduce`), so each step is one step of one model on
  the union of the ranks' batches;
* give every rank the same number of steps per epoch (a rank with a
  smaller shard draws some of its samples twice), since an all-reduce
  waits for every rank;
* take every decision that reads data (anchor placement, re-seeding,
  restarts, cluster merging) on rank 0 from the latents of all ranks and
  broadcast it;
* draw each sample's partners from the rows of all ranks
  (:func:`pooled_rows`), as one process would, when those fit in memory.

Gradients are all-reduced by a skorch callback rather than by wrapping
the module in ``DistributedDataParallel``: the Nebula objective reads the
anchors outside the module's ``forward`` and leaves them unused during the
warm-up, two things DDP's reducer refuses. Averaging the gradients once per
step, in one flat buffer, is what DDP computes.
"""

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback


def is_active():
    """Whether a process group of more than one rank is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size():
    return dist.get_world_size() if is_active() else 1


def _comm_device(tensor):
    """Where a collective runs: NCCL needs CUDA tensors, gloo CPU ones."""
    return tensor.device if dist.get_backend() == "nccl" else torch.device("cpu")


def total(value, op="sum"):
    """A number or array summed (or its maximum) over the ranks, of the
    same type; unchanged in one process."""
    if not is_active():
        return value
    t = torch.as_tensor(np.asarray(value, dtype=np.float64))
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    out = t.cpu().numpy()
    if isinstance(value, np.ndarray):
        return out.astype(value.dtype)
    return type(value)(out.item()) if isinstance(value, (int, float)) else out.item()


def gather_rows(a):
    """The rows of ``a`` from every rank, stacked in rank order."""
    if not is_active():
        return a
    parts = [None] * dist.get_world_size()
    dist.all_gather_object(parts, np.asarray(a))
    return np.concatenate(parts)


def pooled_rows(a, max_bytes):
    """The rows of ``a`` from every rank, stacked in rank order, and where
    this rank's rows start among them; ``(None, None)`` in one process or
    when the stack would exceed ``max_bytes``."""
    if not is_active():
        return None, None
    sizes = gather_rows(np.array([len(a)]))
    if sizes.sum() * (a.nbytes // max(len(a), 1)) > max_bytes:
        return None, None
    return gather_rows(a), int(sizes[: dist.get_rank()].sum())


def on_rank_zero(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` computed on rank 0 and sent to every rank, so
    that all ranks take the same decision."""
    if not is_active():
        return fn(*args, **kwargs)
    result = [fn(*args, **kwargs) if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(result, src=0)
    return result[0]


def broadcast_module(module):
    """Copy rank 0's parameters and buffers to every rank."""
    if not is_active():
        return
    with torch.no_grad():
        for tensor in [*module.parameters(), *module.buffers()]:
            sent = tensor.detach().to(_comm_device(tensor))
            dist.broadcast(sent, src=0)
            tensor.copy_(sent)


class GradientAllReduce(Callback):
    """Average every gradient over the ranks after each backward pass.

    Every rank runs the same code path (warm-up or not, partners or not),
    so the parameters that have a gradient are the same on every rank and
    the collectives match. Module state is taken from rank 0 when training
    starts and when it ends, so every rank holds the same model even where
    initialisation or batch-norm statistics differed.
    """

    def on_train_begin(self, net, **kwargs):
        broadcast_module(net.module_)

    def on_grad_computed(self, net, named_parameters, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads]).to(_comm_device(grads[0]))
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def on_train_end(self, net, **kwargs):
        broadcast_module(net.module_)
