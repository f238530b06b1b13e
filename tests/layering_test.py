#!/usr/bin/env python3
"""The layering rules of DEVELOPERS.md, checked on the built tree.

usage: layering_test.py SOURCE_DIR BUILD_DIR

1. Includes: core/ includes only core headers; run/ only core and run;
   results/ no simulator, live runtime, command or plot header; sim/ and
   live/ no command header; live/ only the simulator's scenario, workload,
   provider and rng headers.  Data flows scenario -> sim/live -> core ->
   events -> results -> plots.
2. No cycle between translation units: for every object file of the build,
   which other object files define the symbols it uses; any two files that
   reach each other through that graph (a strongly connected component of
   more than one file) fail the test, listed.
"""
import collections
import glob
import os
import re
import subprocess
import sys

src, build = sys.argv[1:3]

# layer -> directories whose headers it may include (besides system headers)
ALLOWED = {
    "core": {"admit"},
    "run": {"admit", "run"},
    "results": {"admit", "run", "res"},
    "sim": {"admit", "run", "res", "sim"},
    "live": {"admit", "run", "res", "live"},
}
# Live runs of scenario files read the scenario's workload and simulated
# providers with the simulator's loader and draws; never its clock or engine.
ALLOWED_HEADERS = {"live": {"sim/scenario.h", "sim/workload.h", "sim/provider.h", "sim/rng.h"}}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
failures = []
for layer, allowed in ALLOWED.items():
    for path in glob.glob(os.path.join(src, layer, "**", "*.[ch]"), recursive=True):
        for inc in INCLUDE.findall(open(path, encoding="utf-8").read()):
            top = inc.split("/")[0] if "/" in inc else None
            if top is None:
                continue  # a private header beside the file
            if top not in allowed and inc not in ALLOWED_HEADERS.get(layer, ()):
                failures.append(f"{os.path.relpath(path, src)} includes \"{inc}\" "
                                f"({layer}/ may include only {', '.join(sorted(allowed))})")

objects = [o for o in glob.glob(os.path.join(build, "CMakeFiles", "**", "*.o"), recursive=True)]
if not objects:
    sys.exit(f"layering_test: no object files under {build}/CMakeFiles (build first)")
defined, uses = {}, collections.defaultdict(set)
for obj in objects:
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBR":
            defined.setdefault(parts[2], obj)
        elif len(parts) == 2 and parts[0] == "U":
            uses[obj].add(parts[1])
graph = collections.defaultdict(set)
for obj, syms in uses.items():
    for s in syms:
        if s in defined and defined[s] != obj:
            graph[obj].add(defined[s])

# Tarjan's strongly connected components, iteratively.
index, low, on, stack, comps, counter = {}, {}, set(), [], [], [0]
for root in list(graph):
    if root in index:
        continue
    work = [(root, iter(sorted(graph[root])))]
    index[root] = low[root] = counter[0]
    counter[0] += 1
    stack.append(root)
    on.add(root)
    while work:
        v, it = work[-1]
        advanced = False
        for w in it:
            if w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(graph[w]))))
                advanced = True
                break
            if w in on:
                low[v] = min(low[v], index[w])
        if advanced:
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)
name = lambda o: os.path.basename(o)[:-2]
for comp in comps:
    failures.append("translation units that use each other in a circle: " +
                    ", ".join(sorted(name(o) for o in comp)))
for f in failures:
    print("layering_test:", f)
print(f"layering_test: {len(objects)} object files, {sum(len(v) for v in graph.values())} "
      f"dependencies, {len(failures)} problems")
sys.exit(1 if failures else 0)
