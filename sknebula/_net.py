"""The skorch side: a NeuralNet whose criterion sees the module."""

import copy

import numpy as np
import torch
from skorch import NeuralNet
from skorch.utils import to_tensor


class NebulaNet(NeuralNet):
    """NeuralNet for latent-variable objectives.

    The criterion is called as ``criterion(y_pred, y_true, module)`` and
    returns a dict of named batch terms with the total under ``"loss"``;
    every other term is recorded in the batch history, so ``history`` shows
    what each part of the objective did.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        terms = self.criterion_(y_pred, y_true, self.module_)
        if training:
            for name, value in terms.items():
                if name != "loss":
                    self.history.record_batch(name, _batch_term(value))
        return terms["loss"]


def _batch_term(value):
    """A batch term as the history keeps it until the epoch ends.

    On an accelerator, the tensor: ``.item()`` would wait for the device
    every step (TermAverager turns the epoch's terms into floats). On the
    CPU, a float: nothing is waited for, and thousands of small tensors
    kept alive between the steps' large temporaries fragment the heap, so
    the resident memory of a long epoch would grow with every batch.
    """
    value = value.detach()
    return value if value.device.type != "cpu" else float(value)


def inference_copy(module, device):
    """An eval-mode copy of ``module`` for prediction.

    On CPU the copy runs in float64: float32 matrix products change in the
    last bits with the batch size, and predictions must not depend on how
    rows are batched. The fitted module is left untouched.
    """
    module = copy.deepcopy(module).eval()
    dtype = torch.float64 if torch.device(device).type == "cpu" else torch.float32
    return module.to(dtype=dtype), dtype


def batched_apply(module, X, fn, device, batch_size):
    """Apply ``fn(module, x_batch)`` over ``X`` in batches, without gradients.

    ``fn`` returns a tensor or a tuple of tensors; the results are moved to
    CPU, concatenated along the first axis and returned as float64 numpy
    arrays (a tuple when ``fn`` returns a tuple).
    """
    module, dtype = inference_copy(module, device)
    chunks = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            xb = torch.tensor(np.asarray(X[start : start + batch_size]))
            out = fn(module, xb.to(device=device, dtype=dtype))
            out = out if isinstance(out, tuple) else (out,)
            chunks.append([o.detach().cpu().double().numpy() for o in out])
    results = tuple(np.concatenate(parts) for parts in zip(*chunks))
    return results if len(results) > 1 else results[0]
