#!/usr/bin/env bash
# The GPU checks, prepared to run in one go (a few minutes) on a machine with
# CUDA, from the repository root, after `make install TORCH_SPEC=torch`:
#
#   bash benchmarks/gpu.sh
#
# 1. the CUDA test: fit on the GPU, pickle, unpickle and predict with CUDA
#    hidden (tests/test_cluster.py, skipped on CPU-only machines);
# 2. the throughput tables on CUDA up to a million rows
#    (results/throughput-cuda-*.md: give each a [runs.NAME] in
#    benchmarks/runs.toml, suite "throughput", which files it there);
# 3. where the machine has two GPUs or more, digits trained data-parallel
#    on two GPUs with NCCL, against one process.
# Record what it prints in benchmarks/README.md.
set -euo pipefail
PYTHON=${PYTHON:-python}
nvidia-smi -L
$PYTHON -m pytest -q -rs tests/test_cluster.py -k cuda
$PYTHON -m benchmarks.throughput --sizes 10000 100000 --large 100000 1000000 --seeds 1 \
    --tables overhead large --prefix throughput-cuda
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    out=$(mktemp -d)
    BACKEND=nccl $PYTHON -m torch.distributed.run --standalone --nproc_per_node 2 \
        benchmarks/_parallel_digits.py "$out" 0
    echo "2 GPUs (NCCL): $(cat "$out/result.json")"
    $PYTHON benchmarks/_parallel_digits.py "$out" 0
    echo "1 process: $(cat "$out/result.json")"
fi
