"""Model files that load without running code, and ONNX export.

:func:`dump` writes a fitted (or unfitted) sknebula estimator to one
`safetensors <https://huggingface.co/docs/safetensors>`_ file: every tensor
and array as a safetensors tensor, and the constructor parameters, the
fitted attributes and the training history as JSON in the file's metadata
header. :func:`load` reads it back without unpickling anything: a pickle,
a joblib file or a ``torch.save`` archive is refused before any of its
content is interpreted. The few classes and functions a parameter may hold
(an optimizer, one of sknebula's encoder classes, partner distances or view
generators, a few skorch callbacks) are stored by import name, and a name
is read back only from a fixed table of those objects, in the parameter
that takes it. The network is built by the estimator's own code, from
parameters checked as ``fit`` checks them and only once its shapes match
the stored weights.

:func:`to_onnx` exports what ``transform`` computes (and, for the
clusterer, ``predict`` and ``predict_proba``) as an ONNX model that
onnxruntime serves without torch or sknebula.
"""

from ._format import dump, load
from ._onnx import to_onnx

__all__ = ["dump", "load", "to_onnx"]
