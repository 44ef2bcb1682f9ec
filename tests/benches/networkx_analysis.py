"""The Observatory analysis with networkx (reference for the benchmark): item concentration,
look-through exposure, chokepoints (post-dominators), supply risk and a China cut-off."""
import sys
import time
from collections import defaultdict

import networkx as nx

EU = {"DE", "FR", "NL", "IT", "ES", "PL", "SE", "FI", "BE", "AT", "CZ", "IE", "PT", "RO", "GR"}

kind = {}
inputs = defaultdict(list)
supply = defaultdict(list)
home = {}
with open(sys.argv[1]) as f:
    for line in f:
        p = line.split()
        if p[0] == "node":
            kind[p[1]] = p[2]
        elif p[0] == "input":
            inputs[p[1]].append(p[2])
        elif p[0] == "supply":
            supply[p[1]].append((p[2], float(p[3])))
        elif p[0] == "home":
            home[p[1]] = p[2]

start = time.perf_counter()
g = nx.DiGraph()
for n, k in kind.items():
    g.add_node(n)
for n, lst in inputs.items():
    for c in lst:
        g.add_edge(n, c)
for n, lst in supply.items():
    for s, share in lst:
        g.add_edge(n, s, share=share)
for o, c in home.items():
    g.add_edge(o, c)

# Item concentration.
items = []
for n, lst in supply.items():
    by = defaultdict(float)
    for s, share in lst:
        c = s if kind.get(s) is None else home.get(s)
        if c:
            by[c] += share
    total = sum(by.values())
    scale = 1 / total if total > 1.02 else 1
    hhi = min(sum((v * scale * 100) ** 2 for v in by.values()), 10000)
    eu = sum(v * scale for c, v in by.items() if c in EU)
    top = max(by.items(), key=lambda kv: kv[1])
    items.append((n, hhi, eu, top, len(by) == 1))

# Exposure and risk in reverse topological order.
order = list(reversed(list(nx.topological_sort(g))))
exposure = {}
risk = {}
for n in order:
    k = kind.get(n)
    if k is None:
        exposure[n] = {n: 1.0}
        risk[n] = None
        continue
    if k == "organisation":
        h = home.get(n)
        exposure[n] = dict(exposure[h]) if h else {}
        risk[n] = None
        continue
    sup = supply.get(n, [])
    ins = inputs.get(n, [])
    count = len(ins) + (1 if sup else 0)
    e = defaultdict(float)
    own = None
    if count:
        w = 1 / count
        total = sum(s for _, s in sup)
        scale = 1 / total if total > 1 else 1
        by = defaultdict(float)
        for s, share in sup:
            for c, x in exposure[s].items():
                e[c] += w * share * scale * x
            c = s if kind.get(s) is None else home.get(s)
            if c:
                by[c] += share * scale
        for c in ins:
            for cc, x in exposure[c].items():
                e[cc] += w * x
        if sup:
            own = sum(v * v for v in by.values())
    exposure[n] = dict(e)
    inherited = [risk[c] for c in ins if risk.get(c) is not None]
    cand = ([own] if own is not None else []) + inherited
    risk[n] = max(cand) if cand else None

# Chokepoints: dominators of the reversed graph from a sink fed by every source.
r = g.reverse(copy=True)
for n in list(g.nodes):
    if g.out_degree(n) == 0:
        r.add_edge("__sink__", n)
idom = nx.immediate_dominators(r, "__sink__")
chokepoints = {}
for t in (n for n, k in kind.items() if k == "technology"):
    chain = []
    d = idom.get(t)
    while d is not None and d != "__sink__" and d != idom.get(d, d):
        if kind.get(d) in ("item", "organisation"):
            chain.append(d)
        d = idom.get(d)
    chokepoints[t] = chain

scenario = {t: exposure[t].get("CN", 0.0) for t, k in kind.items() if k == "technology"}
elapsed = time.perf_counter() - start
print(f"networkx: {len(items)} items, {len(chokepoints)} technologies, "
      f"{sum(1 for v in scenario.values() if v > 0)} in the scenario")
print(f"networkx total seconds: {elapsed:.3f}")
