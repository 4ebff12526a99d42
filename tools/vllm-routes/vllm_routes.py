#!/usr/bin/env python3
"""Lists the HTTP routes of a vLLM release's API server, read from its wheel with ast (never imported).

vLLM declares its routes in three ways, and this tool collects all of them from every module under
``vllm/entrypoints/``:

* decorators with a literal path: ``@router.post("/v1/chat/completions")``, ``@app.get("/docs")``,
  ``@router.websocket("/v1/realtime")`` (``get post put delete patch head options websocket``, and
  ``api_route(path, methods=[...])``);
* calls with a literal path: ``router.add_api_route("/abort_requests", f, methods=["POST"])``,
  ``app.mount("/static", ...)``, ``Mount("/metrics", ...)``, ``Route("/x", ...)``;
* FastAPI's own pages of an app built with its defaults: ``/openapi.json``, ``/docs``,
  ``/docs/oauth2-redirect``, ``/redoc`` (listed when some ``FastAPI(...)`` call leaves
  ``openapi_url``/``docs_url``/``redoc_url`` at their defaults).

A route of a module that serves no API to clients (``cli/``: helper processes;
``launchers/dp_supervisor.py``: the data-parallel supervisor) is listed too: a proxy in front of
vLLM must refuse it like any other.

Usage:
  vllm_routes.py VERSION [--out FILE]            pip download the wheel (Python 3.12, manylinux x86_64)
  vllm_routes.py --wheel FILE.whl [--out FILE]   read a wheel already here

Output: comment lines, then one line per route, sorted: ``METHOD PATH SOURCE`` where METHOD is
GET, POST, ..., WEBSOCKET or MOUNT (a mounted sub-application: every path below it), PATH may hold
``{param}`` placeholders, and SOURCE is the module it was read from.
"""
import argparse
import ast
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DECORATOR_METHODS = {"get", "post", "put", "delete", "patch", "head", "options", "websocket"}
FASTAPI_DEFAULTS = {"openapi_url": ["/openapi.json"], "docs_url": ["/docs", "/docs/oauth2-redirect"],
                    "redoc_url": ["/redoc"]}
PLATFORM = "manylinux_2_28_x86_64"
PREFIX = "vllm/entrypoints/"


class ExtractError(Exception):
    """The wheel does not look like what this tool knows how to read."""


def literal_str(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def keyword(call, name):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def methods_of(call, default):
    node = keyword(call, "methods")
    if node is None:
        return default
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out = [literal_str(e) for e in node.elts]
        if all(out):
            return [m.upper() for m in out]
    raise ExtractError(f"methods= is not a literal list at line {call.lineno}")


def path_arg(call):
    if call.args:
        return literal_str(call.args[0])
    node = keyword(call, "path")
    return literal_str(node) if node is not None else None


def routes_of_module(source, name):
    """(method, path, source) for every route the module declares; unreadable paths are reported."""
    tree = ast.parse(source, filename=name)
    routes, skipped = [], []
    fastapi_defaults = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)):
                    continue
                attr = dec.func.attr
                if attr not in DECORATOR_METHODS and attr != "api_route":
                    continue
                path = path_arg(dec)
                if path is None:
                    skipped.append(f"{name}:{dec.lineno} @{attr}(<not a literal>)")
                    continue
                methods = methods_of(dec, ["GET"]) if attr == "api_route" else [attr.upper()]
                routes.extend((m, path, name) for m in methods)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if fname in ("add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route"):
            path = path_arg(node)
            if path is None:
                skipped.append(f"{name}:{node.lineno} {fname}(<not a literal>)")
                continue
            if "websocket" in fname:
                routes.append(("WEBSOCKET", path, name))
            else:
                routes.extend((m, path, name) for m in methods_of(node, ["GET"]))
        elif fname in ("mount", "Mount"):
            path = path_arg(node)
            if path is None:
                skipped.append(f"{name}:{node.lineno} {fname}(<not a literal>)")
            else:
                routes.append(("MOUNT", path, name))
        elif fname == "Route" and isinstance(func, ast.Name):
            path = path_arg(node)
            if path is not None:
                routes.extend((m, path, name) for m in methods_of(node, ["GET"]))
        elif fname == "FastAPI":
            for kw, paths in FASTAPI_DEFAULTS.items():
                value = keyword(node, kw)
                if value is None:
                    fastapi_defaults.update(paths)
                elif literal_str(value):
                    fastapi_defaults.add(literal_str(value))
    for path in fastapi_defaults:
        routes.append(("GET", path, name + " (FastAPI default)"))
    return routes, skipped


def read_wheel(wheel):
    routes, skipped = [], []
    with zipfile.ZipFile(wheel) as z:
        names = sorted(n for n in z.namelist() if n.startswith(PREFIX) and n.endswith(".py"))
        if not names:
            raise ExtractError(f"{wheel} has no {PREFIX}*.py: not a vLLM wheel")
        for n in names:
            r, s = routes_of_module(z.read(n).decode("utf-8"), n)
            routes.extend(r)
            skipped.extend(s)
    return sorted(set(routes), key=lambda r: (r[1], r[0], r[2])), skipped


def download(version, into):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
           "3.12", "--platform", PLATFORM, "-d", into, f"vllm=={version}"]
    print("+ " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    wheels = sorted(Path(into).glob(f"vllm-{version}-*.whl"))
    if not wheels:
        raise ExtractError(f"pip download left no vllm-{version} wheel in {into}")
    return str(wheels[0])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def render(wheel, routes, skipped):
    lines = [
        "# The HTTP routes of vLLM's API server, read by tools/vllm-routes/vllm_routes.py from",
        f"# {Path(wheel).name} (sha256 {sha256(wheel)}).",
        "# Regenerate: tools/vllm-routes/vllm_routes.py VERSION --out THIS_FILE",
        "# METHOD PATH SOURCE (MOUNT: a sub-application, every path below it)",
    ]
    lines += [f"# not read (no literal path): {s}" for s in skipped]
    lines += [f"{m} {p} {s}" for m, p, s in routes]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("version", nargs="?", help="a vLLM release to pip download, e.g. 0.33.0")
    ap.add_argument("--wheel", help="a vLLM wheel already on this machine")
    ap.add_argument("--out", help="write here instead of stdout")
    a = ap.parse_args(argv)
    if bool(a.version) == bool(a.wheel):
        ap.error("give a VERSION or --wheel FILE (one of them)")
    try:
        if a.wheel:
            text = render(a.wheel, *read_wheel(a.wheel))
        else:
            with tempfile.TemporaryDirectory() as d:
                wheel = download(a.version, d)
                text = render(wheel, *read_wheel(wheel))
    except ExtractError as e:
        print(f"vllm_routes: {e}", file=sys.stderr)
        return 2
    if a.out:
        Path(a.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
