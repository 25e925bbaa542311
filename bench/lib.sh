# Shared by the bench scripts (sourced).

# One sample of the containers of the harness runs with pids "$@": their summed memory (MiB)
# and CPU (%), as "MEM CPU" (`docker stats`; "0 0" when none is up).
sample_runs() {
  for pid in "$@"; do docker ps -q --filter "label=upgrade-harness.owner-pid=$pid"; done |
    xargs -r docker stats --no-stream --format '{{.CPUPerc}} {{.MemUsage}}' 2>/dev/null |
    awk '{
      c = $1; gsub(/%/, "", c); cpu += c;
      v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[A-Za-z]/, "", v);
      if (u == "GiB") v *= 1024; else if (u == "KiB") v /= 1024; else if (u == "B") v /= 1048576;
      mem += v } END { printf "%.0f %.0f\n", mem, cpu }' || echo "0 0"
}
