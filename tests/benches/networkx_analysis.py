"""The Observatory analysis with networkx (the reference the benchmark compares with): item
concentration, look-through exposure, chokepoints (post-dominators), supply risk, and a
China cut-off with its strongest path. The same rules as src/analysis (one basis per item:
country rows where there are any, else firms counted for their country; each part of a node
weighs 1/(inputs + 1 if it has supply); an input repeated is one input, a supplier repeated one
supplier with the sum of its shares).

Usage: networkx_analysis.py GRAPH [--dump FILE]. The timer covers reading the file, building the
graph and every metric, like the Rust side's. With --dump, writes the metrics as JSON for the
equality check (tests/graph_gen.rs)."""
import json
import sys
import time
from collections import defaultdict

import networkx as nx

EU = {"DE", "FR", "NL", "IT", "ES", "PL", "SE", "FI", "BE", "AT", "CZ", "IE", "PT", "RO", "GR"}

start = time.perf_counter()
kind = {}
inputs = defaultdict(list)
raw_supply = defaultdict(list)
home = {}
with open(sys.argv[1]) as f:
    for line in f:
        p = line.split()
        if p[0] == "node":
            kind[p[1]] = p[2]
        elif p[0] == "input":
            inputs[p[1]].append(p[2])
        elif p[0] == "supply":
            raw_supply[p[1]].append((p[2], float(p[3])))
        elif p[0] == "home":
            home[p[1]] = p[2]

# One basis per item: country rows where there are any, else the firm rows; the same supplier
# twice is one supplier with the sum of the shares.
supply = {}
for n, lst in raw_supply.items():
    countries = [(s, x) for s, x in lst if s not in kind]
    chosen = countries if countries else [(s, x) for s, x in lst if s in kind]
    summed = defaultdict(float)
    for s, x in chosen:
        summed[s] += x
    supply[n] = [(s, x) for s, x in summed.items() if x > 0]
# The same input twice is one input.
for n in list(inputs):
    inputs[n] = list(dict.fromkeys(inputs[n]))

g = nx.DiGraph()
for n in kind:
    g.add_node(n)
for n, lst in inputs.items():
    for c in lst:
        g.add_edge(n, c)
for n, lst in supply.items():
    for s, _ in lst:
        g.add_edge(n, s)
for o, c in home.items():
    g.add_edge(o, c)


def country_of(s):
    return s if s not in kind else home.get(s)


# Item concentration.
items = {}
for n, lst in supply.items():
    by = defaultdict(float)
    for s, share in lst:
        c = country_of(s)
        if c:
            by[c] += share
    total = sum(by.values())
    scale = 1 / total if total > 1.02 else 1
    items[n] = min(sum((v * scale * 100) ** 2 for v in by.values()), 10000)


def parts(n):
    """(child, weight, factor) as the Rust side's `parts`."""
    k = kind.get(n)
    if k is None:
        return []
    if k == "organisation":
        h = home.get(n)
        return [(h, 1.0)] if h else []
    sup = supply.get(n, [])
    ins = inputs.get(n, [])
    count = len(ins) + (1 if sup else 0)
    if not count:
        return []
    w = 1 / count
    total = sum(share for _, share in sup)
    scale = 1 / total if total > 1.0 else 1.0
    return [(s, w * share * scale) for s, share in sup] + [(c, w) for c in ins]


order = list(reversed(list(nx.topological_sort(g))))
exposure = {}
risk = {}
best = {}
for n in order:
    k = kind.get(n)
    if k is None:
        exposure[n] = {n: 1.0}
        risk[n] = None
        best[n] = 1.0 if n == "CN" else 0.0
        continue
    e = defaultdict(float)
    b = 0.0
    for c, w in parts(n):
        for cc, x in exposure[c].items():
            e[cc] += w * x
        b = max(b, w * best[c])
    exposure[n] = dict(e)
    best[n] = b
    own = None
    if supply.get(n):
        by = defaultdict(float)
        for s, share in supply[n]:
            c = country_of(s)
            if c:
                by[c] += share
        own = min(max(sum(v * v for v in by.values()), 0.0), 1.0)
    inherited = [risk[c] for c, _ in parts(n) if c in kind and risk.get(c) is not None]
    cand = ([own] if own is not None else []) + inherited
    risk[n] = max(cand) if cand else None

# Chokepoints: dominators of the reversed graph from a sink fed by every source.
r = g.reverse(copy=True)
for n in list(g.nodes):
    if g.out_degree(n) == 0:
        r.add_edge("__sink__", n)
idom = nx.immediate_dominators(r, "__sink__")
technologies = {}
for t in (n for n, k in kind.items() if k == "technology"):
    chain = []
    d = idom.get(t)
    while d is not None and d != "__sink__" and d != idom.get(d, d):
        if kind.get(d) in ("item", "organisation"):
            chain.append(d)
        d = idom.get(d)
    rk = risk.get(t)
    technologies[t] = {
        "exposure": exposure[t],
        "chokepoints": chain,
        "risk": None if rk is None else round(rk * 10.0 * 1e6) / 1e6,
        "lost": min(exposure[t].get("CN", 0.0), 1.0),
        "path_share": best[t],
    }
elapsed = time.perf_counter() - start
print(f"networkx: {len(items)} items, {len(technologies)} technologies, "
      f"{sum(1 for v in technologies.values() if v['lost'] > 0)} in the scenario")
print(f"networkx total seconds: {elapsed:.3f}")
if "--dump" in sys.argv:
    with open(sys.argv[sys.argv.index("--dump") + 1], "w") as out:
        json.dump({"items": items, "technologies": technologies}, out)
