#!/bin/bash
# The device check: bench_step.py at several batches (JAX and the PyTorch twin on the GPU), then
# the training-step throughput of each study's --budget full configurations (bench_full.py).
# Run from the repository root:  bash .gpu_bench/run.sh      (TINY=1: tiny settings, for a CPU)
set -u
T0=$(date +%s)
B=$PWD/.gpu_bench
OUT=${OUT:-/tmp/gpu_bench_out}; mkdir -p "$OUT"
TINY=${TINY:-0}
BUDGET_S=${BUDGET_S:-370}          # no new item starts after this many seconds
export PYTHONPATH=$PWD:$B/site GAN_JAX_DATA=$B/data PYTHONUNBUFFERED=1
PY=${PY:-python3}
cp $B/scripts/bench_step.py $B/scripts/torch_dcgan.py scripts/   # the CUDA-capable twin (h-gpu)
{
  date -u; uname -a; nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1
  $PY - <<'PYEOF'
import importlib, sys
print("python", sys.version.split()[0])
for n in ["jax", "jaxlib", "flax", "optax", "orbax.checkpoint", "numpy", "torch", "hydra", "omegaconf"]:
    try:
        m = importlib.import_module(n); print(n, getattr(m, "__version__", "?"))
    except Exception as e:
        print(n, "MISSING", e)
import jax; print("devices", jax.devices())
PYEOF
} > $OUT/env.txt 2>&1
cat $OUT/env.txt
left() { echo $(( BUDGET_S - ($(date +%s) - T0) )); }
if [ "$TINY" = 1 ]; then
  BATCHES="16"; STEPARGS="--chunk 2 --calls 1 --rounds 1 model.width=8 model.fc_width=32"; TORCH=""
  ITEMS=$B/items_tiny.txt; SECONDS_PER=0.2
else
  BATCHES="16 64 128 256 1024"; STEPARGS="--chunk 50 --calls 4 --rounds 3"; TORCH="--torch --torch-device cuda"
  ITEMS=$B/items_full.txt; SECONDS_PER=4
fi
for b in $BATCHES; do
  [ "$(left)" -lt 240 ] && { echo "skip batch $b: time" | tee -a $OUT/bench_step.txt; continue; }
  echo "== bench_step batch $b ($(left) s left)" | tee -a $OUT/bench_step.txt
  timeout 90 $PY scripts/bench_step.py $STEPARGS $TORCH trainer.batch_size=$b >> $OUT/bench_step.txt 2>$OUT/err_step_$b.txt
  rc=$?
  if [ $rc -ne 0 ] && [ -n "$TORCH" ]; then
    echo "rc=$rc with --torch; again without" | tee -a $OUT/bench_step.txt; tail -5 $OUT/err_step_$b.txt
    timeout 60 $PY scripts/bench_step.py $STEPARGS trainer.batch_size=$b >> $OUT/bench_step.txt 2>>$OUT/err_step_$b.txt
  fi
  tail -2 $OUT/bench_step.txt
done
cat $OUT/err_step_*.txt > $OUT/errors.txt 2>/dev/null; rm -f $OUT/err_step_*.txt
echo "== bench_full ($(left) s left)"
$PY $B/bench_full.py $ITEMS --seconds $SECONDS_PER --deadline $(( T0 + BUDGET_S )) \
  --out $OUT/bench_full.jsonl 2>>$OUT/errors.txt
echo "== done in $(( $(date +%s) - T0 )) s"
