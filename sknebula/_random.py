"""Random draws of a nebula fit from torch generators of its own.

torch's global generator is shared by every thread: two fits running side
by side (a threaded ``GridSearchCV``) would interleave their draws, and each
result would depend on the timing. The nebula fit therefore draws its batch
order, its partners and its reparameterisation noise from a generator that
only it holds. Parameter initialisation has no generator argument in
``torch.nn``, so modules are built from the global generator under a lock,
and the fit's generator continues that stream: the draws are the ones a
single process seeded with ``torch.manual_seed`` makes. The lock keeps other
sknebula fits out of that moment, not other code drawing from the global
generator in another thread.
"""

import threading
from contextlib import contextmanager

import torch

_GLOBAL_SEEDING = threading.Lock()


def build_seeded(build, seed):
    """``build()`` (a module) from torch's global generator seeded with
    ``seed``, under a lock; returns the module and a CPU generator that
    continues the stream where building left it.

    Call inside :func:`global_state_kept` so that the caller's global
    state comes back afterwards (the estimators' ``fit`` does).
    """
    with _GLOBAL_SEEDING:
        torch.manual_seed(seed)
        module = build()
        generator = torch.Generator()
        generator.set_state(torch.get_rng_state())
    return module, generator


def fresh_generator(seed):
    """A CPU generator in the state ``torch.manual_seed(seed)`` leaves."""
    return torch.Generator().manual_seed(int(seed))


def _noise_generator(cpu_generator, seed, device):
    """The generator of noise drawn on ``device``: ``cpu_generator`` on the
    CPU, else one of the device's, seeded as ``torch.manual_seed(seed)``
    seeds every device."""
    device = torch.device(device)
    if device.type == "cpu":
        return cpu_generator
    return torch.Generator(device=device).manual_seed(int(seed))


@contextmanager
def global_state_kept():
    """Give torch's global generators (CPU and every CUDA device) back as
    they were, as ``torch.random.fork_rng`` does, but reading and writing
    them under the lock of :func:`build_seeded`, so that a fit ending in one
    thread does not rewind another's generator while it builds a module."""
    devices = range(torch.cuda.device_count()) if torch.cuda.is_available() else ()
    with _GLOBAL_SEEDING:
        cpu = torch.get_rng_state()
        cuda = [torch.cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        with _GLOBAL_SEEDING:
            torch.set_rng_state(cpu)
            for device, state in zip(devices, cuda):
                torch.cuda.set_rng_state(state, device)


@contextmanager
def drawing_from(generator, seed, device, module, dataset):
    """While training on ``device``, ``dataset`` draws its order and
    partners from ``generator`` and ``module`` its noise from it too on the
    CPU, else from a generator of the device seeded with ``seed``; both
    forget them afterwards, so a fitted model holds no generator."""
    module.noise_generator = _noise_generator(generator, seed, device)
    dataset.generator = generator
    try:
        yield
    finally:
        module.noise_generator, dataset.generator = None, None
