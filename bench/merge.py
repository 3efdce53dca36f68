"""BENCH_MERGE=1: fold the sections of a partial run (BENCH_ONLY, BENCH_X_ONLY) into the
results.json of an earlier full run instead of replacing it, so one section can be measured
again without throwing the others' figures away.

- a top-level section of the new run replaces the old one whole, except `cross_host` when the
  new run ran only some of its parts (BENCH_X_ONLY): then only those parts are replaced, and
  `cross_host.reruns[part]` says where they came from (prefix, underlay, duration);
- the old `machine` block stays (it describes the sections that were not run again); the new
  run's machine block, with its section list, is appended to `machine.merged_runs` (an earlier
  merged run keeps only the sections this one did not replace; none left, it goes).
"""


def merge(old, new):
    out = dict(old)
    sections = [k for k in new if k != "machine"]
    parts = []
    for k in sections:
        x = new[k]
        if k == "cross_host" and isinstance(old.get(k), dict) and "parts" in x and not x.get("skipped"):
            kept = dict(old[k])
            reruns = dict(kept.get("reruns", {}))
            for p in x["parts"]:
                if p in x:
                    kept[p] = x[p]
                    fields = ("prefix", "underlay", "network", "underlay6", "network6", "duration_s")
                    reruns[p] = {f: x[f] for f in fields if f in x}
                    parts.append(f"cross_host.{p}")
            kept["reruns"] = reruns
            out[k] = kept
        else:
            out[k] = x
            parts.append(k)
    m = dict(old.get("machine", {}))
    earlier = []  # an earlier merged run stays listed for what this one did not measure again
    for r in m.get("merged_runs", []):
        left = [x for x in r.get("sections", []) if x not in parts]
        if left:
            earlier.append(dict(r, sections=left))
    m["merged_runs"] = earlier + [dict(new.get("machine", {}), sections=parts)]
    out["machine"] = m
    return out
