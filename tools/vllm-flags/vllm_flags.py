#!/usr/bin/env python3
"""Reads the command-line options of `vllm serve` from a vLLM release's source, without importing it.

vLLM builds its parser in two ways, and a reader must follow both:

* literal calls, e.g. ``group.add_argument("--max-model-len", **model_kwargs["max_model_len"])``,
  whose arity (flag or value) comes from the type of the dataclass field behind the ``**kwargs``;
* generated options: ``for key, value in get_kwargs(FrontendArgs).items(): group.add_argument(
  f"--{key.replace('_', '-')}", **value)``, one per dataclass field.

So this tool parses every module of the ``vllm`` package with :mod:`ast`, indexes classes, functions,
imports and type aliases, and then *abstractly runs* the functions that build the `serve` parser,
starting at ``ServeSubcommand.subparser_init`` in ``vllm/entrypoints/cli/serve.py``: it follows the
calls that receive a parser (or a kwargs table from ``get_kwargs``), records each ``add_argument``
with its option strings and arity, applies the kwargs edits vLLM makes (``del kw["x"]["nargs"]``,
``kw["x"]["action"] = "append"``), and expands ``BooleanOptionalAction`` (``--no-x``) and, where the
release registers it, vLLM's ``EnableDisableAction`` (``--enable-x`` / ``--disable-x``).

Usage:
  vllm_flags.py VERSION [--out FILE]          pip download the wheel (Python 3.12, manylinux x86_64)
  vllm_flags.py --wheel FILE.whl [--out FILE]  read a wheel already here
  vllm_flags.py --source DIR --version V      read an unpacked tree (DIR/vllm/...)

Output (the fixture the Java side and the stand-in read): comment lines, then one line per action,
``ARITY OPTION [OPTION...]``, the first option being the canonical one. ARITY is 0 (no value),
1 (one value), ? (an optional value), + (one or more), * (zero or more) or a count. Positional
arguments are listed as ``positional NAME ARITY``.
"""
import argparse
import ast
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

ROOT_MODULE = "vllm.entrypoints.cli.serve"
ROOT_CLASS = "ServeSubcommand"
ROOT_METHOD = "subparser_init"
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_31_x86_64", "manylinux_2_34_x86_64",
             "manylinux_2_35_x86_64", "manylinux1_x86_64", "manylinux2014_x86_64"]
ZERO_ACTIONS = {"store_true", "store_false", "store_const", "count", "help", "version",
                "append_const"}
MAX_DEPTH = 25


class ExtractError(Exception):
    """The source does not look like what this tool knows how to read."""


# --------------------------------------------------------------------------- source index

@dataclass
class Module:
    name: str
    path: str
    tree: ast.Module
    is_package: bool
    classes: Dict[str, ast.ClassDef] = field(default_factory=dict)
    functions: Dict[str, ast.FunctionDef] = field(default_factory=dict)
    assigns: Dict[str, ast.expr] = field(default_factory=dict)
    imports: Dict[str, Tuple[str, Optional[str]]] = field(default_factory=dict)


@dataclass
class ClassInfo:
    module: Module
    node: ast.ClassDef

    @property
    def name(self) -> str:
        return self.node.name

    def key(self) -> str:
        return f"{self.module.name}.{self.node.name}"


def _walk_top(body):
    """Top-level statements, including those inside if/try blocks (TYPE_CHECKING imports)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _walk_top(stmt.body)
            yield from _walk_top(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from _walk_top(stmt.body)
            for h in stmt.handlers:
                yield from _walk_top(h.body)
            yield from _walk_top(stmt.orelse)


class Index:
    def __init__(self, source_dir: str):
        self.paths: Dict[str, Tuple[str, bool]] = {}
        self._parsed: Dict[str, Optional[Module]] = {}
        pkg = os.path.join(source_dir, "vllm")
        if not os.path.isfile(os.path.join(pkg, "__init__.py")):
            raise ExtractError(f"{source_dir} has no vllm/__init__.py: not a vLLM source tree")
        for dirpath, _dirs, files in os.walk(pkg):
            for f in files:
                if not f.endswith(".py"):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, source_dir)[:-3].split(os.sep)
                is_package = rel[-1] == "__init__"
                if is_package:
                    rel = rel[:-1]
                self.paths[".".join(rel)] = (path, is_package)

    def module(self, name: str) -> Optional[Module]:
        """The module, parsed on first use (a release has thousands; a parser needs a few dozen)."""
        if name not in self._parsed:
            found = self.paths.get(name)
            module = None
            if found is not None:
                path, is_package = found
                try:
                    with open(path, encoding="utf-8") as fh:
                        tree = ast.parse(fh.read(), filename=path)
                    module = self._index(Module(name, path, tree, is_package))
                except (SyntaxError, UnicodeDecodeError):
                    module = None  # files for other Python versions or templates
            self._parsed[name] = module
        return self._parsed[name]

    def all_modules(self):
        for name in self.paths:
            m = self.module(name)
            if m is not None:
                yield m

    def _index(self, m: Module) -> Module:
        for stmt in _walk_top(m.tree.body):
            if isinstance(stmt, ast.ClassDef):
                m.classes[stmt.name] = stmt
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                m.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.Assign):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        m.assigns[t.id] = stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
                m.assigns[stmt.target.id] = stmt.value
            elif stmt.__class__.__name__ == "TypeAlias":  # `type X = ...` (Python 3.12)
                m.assigns[stmt.name.id] = stmt.value
            elif isinstance(stmt, ast.ImportFrom):
                base = self._absolute(m, stmt.module, stmt.level)
                for a in stmt.names:
                    m.imports[a.asname or a.name] = (base, a.name)
            elif isinstance(stmt, ast.Import):
                for a in stmt.names:
                    if a.asname:
                        m.imports[a.asname] = (a.name, None)
                    else:
                        top = a.name.split(".")[0]
                        m.imports[top] = (top, None)
        return m

    @staticmethod
    def _absolute(m: Module, module: Optional[str], level: int) -> str:
        if level == 0:
            return module or ""
        parts = m.name.split(".")
        if not m.is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
        return ".".join(parts + ([module] if module else []))

    def resolve(self, modname: str, name: str, depth: int = 0):
        """What `name` means in module `modname`: ('class', ClassInfo) | ('func', Module, FunctionDef)
        | ('alias', Module, expr) | ('module', name) | None (outside the package or unknown)."""
        if depth > 30:
            return None
        m = self.module(modname)
        if m is None:
            return None
        if name in m.classes:
            return ("class", ClassInfo(m, m.classes[name]))
        if name in m.functions:
            return ("func", m, m.functions[name])
        if name in m.assigns:
            return ("alias", m, m.assigns[name])
        if name in m.imports:
            target, attr = m.imports[name]
            if attr is None:
                return ("module", target) if target in self.paths else None
            sub = f"{target}.{attr}"
            if sub in self.paths:
                return ("module", sub)
            return self.resolve(target, attr, depth + 1)
        return None

    def resolve_expr(self, modname: str, expr: ast.expr):
        """Resolves a Name or dotted Attribute (module.Class, Class.method) in a module."""
        if isinstance(expr, ast.Name):
            return self.resolve(modname, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.resolve_expr(modname, expr.value)
            if base and base[0] == "module":
                return self.resolve(base[1], expr.attr)
        return None

    # ---------------------------------------------------------------- classes

    def bases(self, c: ClassInfo) -> List[ClassInfo]:
        out = []
        for b in c.node.bases:
            r = self.resolve_expr(c.module.name, b)
            if r and r[0] == "class":
                out.append(r[1])
        return out

    def mro(self, c: ClassInfo) -> List[ClassInfo]:
        """A depth-first, left-to-right linearisation (enough for vLLM's single-inheritance configs)."""
        seen, out = set(), []

        def visit(k: ClassInfo):
            if k.key() in seen:
                return
            seen.add(k.key())
            out.append(k)
            for b in self.bases(k):
                visit(b)

        visit(c)
        return out

    def base_names(self, c: ClassInfo) -> List[str]:
        names = []
        for b in c.node.bases:
            names.append(b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", ""))
        return names

    def is_dataclass(self, c: ClassInfo) -> bool:
        for k in self.mro(c):
            for d in k.node.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if name in ("dataclass", "config"):
                    return True
        return False

    def is_dict_subclass(self, c: ClassInfo) -> bool:
        for k in self.mro(c):
            if any(n in ("dict", "Dict") for n in self.base_names(k)):
                return True
            if any(n == "TypedDict" for n in self.base_names(k)):
                return False
        return False

    def is_subclass_named(self, c: ClassInfo, names) -> bool:
        return any(n in names for k in self.mro(c) for n in self.base_names(k))

    def fields(self, c: ClassInfo) -> Dict[str, Tuple[Module, ast.expr]]:
        """Dataclass fields (bases first, later definitions win), without ClassVar/InitVar."""
        out: Dict[str, Tuple[Module, ast.expr]] = {}
        for k in reversed(self.mro(c)):
            for stmt in k.node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    ann = stmt.annotation
                    head = ann.value if isinstance(ann, ast.Subscript) else ann
                    hname = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
                    if hname in ("ClassVar", "InitVar"):
                        continue
                    out[stmt.target.id] = (k.module, ann)
        return out

    def method(self, c: ClassInfo, name: str, after: Optional[ClassInfo] = None):
        """(defining class, FunctionDef) of `name` along the MRO (after `after`, for super())."""
        chain = self.mro(c)
        if after is not None:
            keys = [k.key() for k in chain]
            chain = chain[keys.index(after.key()) + 1:] if after.key() in keys else []
        for k in chain:
            for stmt in k.node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                    return k, stmt
        return None


# --------------------------------------------------------------------------- field types → kwargs

BUILTIN_SCALARS = {"int", "float", "str", "bytes", "complex"}


class TypeReader:
    """Mirrors vllm.engine.arg_utils._compute_kwargs on annotation ASTs: which kwargs (action,
    nargs) a dataclass field's type gives its option."""

    def __init__(self, index: Index):
        self.index = index

    def hints(self, module: Module, ann: ast.expr, depth: int = 0) -> List[Tuple[str, object]]:
        """The flattened union members of an annotation, as (kind, detail) pairs: kind is one of
        bool, none, str, int, float, dict, list, set, tuple, literal, dataclass, other."""
        if depth > 20:
            return [("other", None)]
        if isinstance(ann, ast.Constant):
            if ann.value is None:
                return [("none", None)]
            if isinstance(ann.value, str):  # a forward reference
                try:
                    return self.hints(module, ast.parse(ann.value, mode="eval").body, depth + 1)
                except SyntaxError:
                    return [("other", None)]
            return [("other", None)]
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self.hints(module, ann.left, depth + 1) + self.hints(module, ann.right, depth + 1)
        if isinstance(ann, ast.Subscript):
            head = self._name(ann.value)
            args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if head in ("Optional",):
                return self.hints(module, args[0], depth + 1) + [("none", None)]
            if head in ("Union",):
                return [h for a in args for h in self.hints(module, a, depth + 1)]
            if head in ("Annotated",):
                return self.hints(module, args[0], depth + 1)
            if head in ("Literal",):
                return [("literal", None)]
            if head in ("list", "List", "Sequence", "MutableSequence"):
                return [("list", None)]
            if head in ("set", "Set", "frozenset", "FrozenSet", "AbstractSet"):
                return [("set", None)]
            if head in ("tuple", "Tuple"):
                ellipsis = any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in args)
                return [("tuple", "+" if ellipsis else len(args))]
            if head in ("dict", "Dict", "Mapping", "MutableMapping"):
                return [("dict", None)]
            if head in ("type", "Type", "Callable"):
                return [("other", None)]
            return self.hints(module, ann.value, depth + 1)
        name = self._name(ann)
        if name is None:
            return [("other", None)]
        if name == "bool":
            return [("bool", None)]
        if name == "None":
            return [("none", None)]
        if name in BUILTIN_SCALARS:
            return [(name if name in ("int", "float", "str") else "other", None)]
        if name in ("dict", "Dict"):
            return [("dict", None)]
        if name in ("list", "List"):
            return [("list", None)]
        if name in ("Any",):
            return [("other", None)]
        r = self.index.resolve_expr(module.name, ann) if isinstance(ann, (ast.Name, ast.Attribute)) else None
        if r is None:
            return [("other", None)]
        if r[0] == "alias":
            value = r[2]
            if isinstance(value, ast.Call):  # NewType / TypeAliasType(...)
                fn = self._name(value.func)
                if fn == "TypeAliasType" and len(value.args) >= 2:
                    return self.hints(r[1], value.args[1], depth + 1)
                if fn == "NewType" and len(value.args) >= 2:
                    return self.hints(r[1], value.args[1], depth + 1)
                return [("other", None)]
            return self.hints(r[1], value, depth + 1)
        if r[0] == "class":
            c = r[1]
            if self.index.is_dataclass(c):
                return [("dataclass", None)]
            if self.index.is_dict_subclass(c):
                return [("dict", None)]
            return [("other", None)]
        return [("other", None)]

    @staticmethod
    def _name(expr) -> Optional[str]:
        if isinstance(expr, ast.Name):
            return expr.id
        if isinstance(expr, ast.Attribute):
            return expr.attr
        return None

    def kwargs(self, module: Module, ann: ast.expr) -> dict:
        """The arity-relevant kwargs vLLM gives this field: action / nargs / const."""
        kinds = self.hints(module, ann)
        names = {k for k, _ in kinds}
        if "dataclass" in names:
            return {}
        if names == {"bool", "str", "none"}:
            return {"nargs": "?", "const": True}
        if "bool" in names:
            return {"action": "BooleanOptionalAction"}
        if "literal" in names:
            return {}
        for kind, detail in kinds:
            if kind == "tuple":
                return {"nargs": detail}
        if "list" in names or "set" in names:
            return {"nargs": "+"}
        return {}


# --------------------------------------------------------------------------- abstract interpreter

class Parser:
    """Any argparse parser or argument group: add_argument calls on it are recorded."""


@dataclass
class KwDict:
    data: dict
    field_name: Optional[str] = None


@dataclass
class KwTable:
    cls: str
    fields: Dict[str, KwDict]


@dataclass
class ClassRef:
    info: ClassInfo


@dataclass
class Str:
    value: str


@dataclass
class ListV:
    items: list


@dataclass
class Action:
    options: List[str]
    arity: str
    boolean_optional: bool
    dest: Optional[str] = None
    where: str = ""


class Unknown:
    pass


UNKNOWN = Unknown()


@dataclass
class Frame:
    module: Module
    env: dict
    cls: Optional[ClassInfo]          # the class `cls`/`self` stands for
    defining: Optional[ClassInfo]     # the class whose body defines this function (for super())
    returns: list = field(default_factory=list)


class Interpreter:
    def __init__(self, index: Index, warn):
        self.index = index
        self.types = TypeReader(index)
        self.actions: List[Action] = []
        self.positionals: List[Tuple[str, str]] = []
        self.warn = warn
        self.stack: List[str] = []

    # -------------------------------------------------------------- functions

    def call_function(self, module: Module, func: ast.FunctionDef, args: list, kwargs: dict,
                      cls: Optional[ClassInfo], defining: Optional[ClassInfo], bound_first: bool):
        key = f"{module.name}.{func.name}"
        if len(self.stack) > MAX_DEPTH or self.stack.count(key) > 1:
            return UNKNOWN
        self.stack.append(key)
        try:
            env = {}
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            if bound_first and params:
                first = params.pop(0)
                env[first] = ClassRef(cls) if cls is not None else UNKNOWN
            for p, v in zip(params, args):
                env[p] = v
            for k, v in kwargs.items():
                env[k] = v
            frame = Frame(module, env, cls, defining)
            self.exec_block(func.body, frame)
            results = [r for r in frame.returns if not isinstance(r, Unknown)]
            return results[-1] if results else UNKNOWN
        finally:
            self.stack.pop()

    def exec_block(self, body, frame: Frame):
        for stmt in body:
            self.exec_stmt(stmt, frame)

    def exec_stmt(self, stmt, frame: Frame):
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, frame)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, frame)
            for t in stmt.targets:
                self.assign(t, value, frame)
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, frame), frame)
        elif isinstance(stmt, ast.Delete):
            for t in stmt.targets:
                self.delete(t, frame)
        elif isinstance(stmt, ast.Return):
            frame.returns.append(self.eval(stmt.value, frame) if stmt.value is not None else UNKNOWN)
        elif isinstance(stmt, ast.If):
            self.exec_block(stmt.body, frame)
            self.exec_block(stmt.orelse, frame)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self.exec_block(stmt.body, frame)
        elif isinstance(stmt, ast.Try):
            self.exec_block(stmt.body, frame)
            self.exec_block(stmt.orelse, frame)
            self.exec_block(stmt.finalbody, frame)
        elif isinstance(stmt, ast.For):
            self.exec_for(stmt, frame)

    def exec_for(self, stmt: ast.For, frame: Frame):
        it = stmt.iter
        # for key, value in <KwTable>.items(): ...  (the generated options)
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items":
            table = self.eval(it.func.value, frame)
            if isinstance(table, KwTable) and isinstance(stmt.target, ast.Tuple) and len(stmt.target.elts) == 2:
                k, v = stmt.target.elts
                for name, kw in list(table.fields.items()):
                    self.assign(k, Str(name), frame)
                    self.assign(v, kw, frame)
                    self.exec_block(stmt.body, frame)
                return
        self.exec_block(stmt.body, frame)

    def assign(self, target, value, frame: Frame):
        if isinstance(target, ast.Name):
            frame.env[target.id] = value
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            if isinstance(container, KwDict) and isinstance(key, Str):
                container.data[key.value] = value
            elif isinstance(container, KwTable) and isinstance(key, Str) and isinstance(value, KwDict):
                container.fields[key.value] = value

    def delete(self, target, frame: Frame):
        if isinstance(target, ast.Subscript):
            container = self.eval(target.value, frame)
            key = self.eval(target.slice, frame)
            if isinstance(container, KwDict) and isinstance(key, Str):
                container.data.pop(key.value, None)
            elif isinstance(container, KwTable) and isinstance(key, Str):
                container.fields.pop(key.value, None)

    # -------------------------------------------------------------- expressions

    def eval(self, e, frame: Frame):
        if e is None:
            return UNKNOWN
        if isinstance(e, ast.Constant):
            return Str(e.value) if isinstance(e.value, str) else e.value
        if isinstance(e, ast.Name):
            if e.id in frame.env:
                return frame.env[e.id]
            r = self.index.resolve(frame.module.name, e.id)
            if r and r[0] == "class":
                return ClassRef(r[1])
            if e.id in ("BooleanOptionalAction",):
                return "BooleanOptionalAction"
            return UNKNOWN
        if isinstance(e, ast.Attribute):
            if e.attr == "BooleanOptionalAction":
                return "BooleanOptionalAction"
            base = self.eval(e.value, frame)
            if isinstance(base, ClassRef):
                return UNKNOWN
            r = self.index.resolve_expr(frame.module.name, e)
            if r and r[0] == "class":
                return ClassRef(r[1])
            return UNKNOWN
        if isinstance(e, ast.Subscript):
            container = self.eval(e.value, frame)
            key = self.eval(e.slice, frame)
            if isinstance(container, KwTable) and isinstance(key, Str):
                kw = container.fields.get(key.value)
                if kw is None:
                    self.warn(f"{frame.module.name}: {container.cls} has no field '{key.value}'")
                    return KwDict({}, key.value)
                return kw
            if isinstance(container, KwDict) and isinstance(key, Str):
                return container.data.get(key.value, UNKNOWN)
            return UNKNOWN
        if isinstance(e, ast.Dict):
            data = {}
            for k, v in zip(e.keys, e.values):
                if k is None:  # **other
                    other = self.eval(v, frame)
                    if isinstance(other, KwDict):
                        data.update(other.data)
                else:
                    kk = self.eval(k, frame)
                    if isinstance(kk, Str):
                        data[kk.value] = self.eval(v, frame)
            return KwDict(data)
        if isinstance(e, (ast.List, ast.Tuple)):
            return ListV([self.eval(x, frame) for x in e.elts])
        if isinstance(e, ast.JoinedStr):
            parts = []
            for v in e.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                else:
                    val = self.eval(v.value, frame)
                    if not isinstance(val, Str):
                        return UNKNOWN
                    parts.append(val.value)
            return Str("".join(parts))
        if isinstance(e, ast.Call):
            return self.eval_call(e, frame)
        return UNKNOWN

    def eval_call(self, call: ast.Call, frame: Frame):
        func = call.func
        if isinstance(func, ast.Attribute):
            attr = func.attr
            if attr == "add_argument":
                receiver = self.eval(func.value, frame)
                if isinstance(receiver, Parser):
                    self.record(call, frame)
                return UNKNOWN
            if attr in ("add_argument_group", "add_mutually_exclusive_group", "add_parser"):
                return Parser()
            base = self.eval(func.value, frame)
            if isinstance(base, Str):
                return self.str_method(base, attr, [self.eval(a, frame) for a in call.args])
            if isinstance(base, KwDict):
                if attr == "pop" and call.args:
                    key = self.eval(call.args[0], frame)
                    if isinstance(key, Str):
                        default = self.eval(call.args[1], frame) if len(call.args) > 1 else UNKNOWN
                        return base.data.pop(key.value, default)
                if attr == "copy":
                    return KwDict(dict(base.data), base.field_name)
                if attr == "update" and call.args:
                    other = self.eval(call.args[0], frame)
                    if isinstance(other, KwDict):
                        base.data.update(other.data)
                    return UNKNOWN
                return UNKNOWN
            if attr == "deepcopy" and call.args:
                return self.eval(call.args[0], frame)
            # super().method(...)
            if isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) \
                    and func.value.func.id == "super" and frame.cls is not None:
                found = self.index.method(frame.cls, attr, after=frame.defining)
                if found:
                    return self.invoke(found[0], found[1], call, frame, frame.cls, bound=True)
                return UNKNOWN
            # Cls.method(...) / cls.method(...) / self.method(...)
            if isinstance(base, ClassRef):
                found = self.index.method(base.info, attr)
                if found:
                    return self.invoke(found[0], found[1], call, frame, base.info, bound=None)
                return UNKNOWN
            r = self.index.resolve_expr(frame.module.name, func)
            if r and r[0] == "func":
                return self.invoke_plain(r[1], r[2], call, frame)
            return UNKNOWN
        if isinstance(func, ast.Name):
            if func.id == "get_kwargs" and call.args:
                target = self.eval(call.args[0], frame)
                if isinstance(target, ClassRef):
                    return self.kw_table(target.info)
                self.warn(f"{frame.module.name}: get_kwargs of an unresolved class")
                return UNKNOWN
            if func.id in ("dict",) and call.args:
                other = self.eval(call.args[0], frame)
                if isinstance(other, KwDict):
                    return KwDict(dict(other.data), other.field_name)
                return UNKNOWN
            if func.id == "deepcopy" and call.args:
                return self.eval(call.args[0], frame)
            r = self.index.resolve(frame.module.name, func.id)
            if r and r[0] == "func":
                return self.invoke_plain(r[1], r[2], call, frame)
            if r and r[0] == "class":
                return UNKNOWN
        return UNKNOWN

    @staticmethod
    def str_method(s: Str, attr: str, args: list):
        try:
            if attr == "replace" and len(args) == 2 and all(isinstance(a, Str) for a in args):
                return Str(s.value.replace(args[0].value, args[1].value))
            if attr in ("lower", "upper", "strip"):
                return Str(getattr(s.value, attr)())
            if attr == "removeprefix" and args and isinstance(args[0], Str):
                return Str(s.value[len(args[0].value):] if s.value.startswith(args[0].value) else s.value)
        except Exception:  # noqa: BLE001
            pass
        return UNKNOWN

    def interesting(self, values) -> bool:
        return any(isinstance(v, (Parser, KwTable, KwDict)) for v in values)

    def call_args(self, call: ast.Call, frame: Frame):
        args, kwargs = [], {}
        for a in call.args:
            if isinstance(a, ast.Starred):
                continue
            args.append(self.eval(a, frame))
        for k in call.keywords:
            if k.arg is not None:
                kwargs[k.arg] = self.eval(k.value, frame)
        return args, kwargs

    def invoke_plain(self, module: Module, fn: ast.FunctionDef, call: ast.Call, frame: Frame):
        args, kwargs = self.call_args(call, frame)
        if not self.interesting(list(args) + list(kwargs.values())):
            return UNKNOWN
        return self.call_function(module, fn, args, kwargs, None, None, bound_first=False)

    def invoke(self, defining: ClassInfo, fn: ast.FunctionDef, call: ast.Call, frame: Frame,
               cls: ClassInfo, bound):
        args, kwargs = self.call_args(call, frame)
        decorators = {getattr(d, "id", getattr(d, "attr", "")) for d in fn.decorator_list}
        if not self.interesting(list(args) + list(kwargs.values())):
            return UNKNOWN
        bound_first = "staticmethod" not in decorators
        return self.call_function(defining.module, fn, args, kwargs, cls, defining, bound_first)

    def kw_table(self, c: ClassInfo) -> KwTable:
        fields = {}
        for name, (module, ann) in self.index.fields(c).items():
            fields[name] = KwDict(dict(self.types.kwargs(module, ann)), name)
        return KwTable(c.name, fields)

    # -------------------------------------------------------------- add_argument

    def record(self, call: ast.Call, frame: Frame):
        options: List[str] = []
        positional = None
        for a in call.args:
            if isinstance(a, ast.Starred):
                v = self.eval(a.value, frame)
                if isinstance(v, ListV):
                    options += [x.value for x in v.items if isinstance(x, Str)]
                continue
            v = self.eval(a, frame)
            if isinstance(v, Str):
                if v.value.startswith("-"):
                    options.append(v.value)
                else:
                    positional = v.value
            else:
                raise ExtractError(f"{frame.module.name}:{call.lineno}: add_argument with an option "
                                   f"name this tool cannot read: {ast.unparse(a)}")
        kw = {}
        for k in call.keywords:
            if k.arg is None:
                v = self.eval(k.value, frame)
                if isinstance(v, KwDict):
                    kw.update(v.data)
                else:
                    self.warn(f"{frame.module.name}:{call.lineno}: **{ast.unparse(k.value)} not read; "
                              "its option is taken as taking one value")
            else:
                kw[k.arg] = self.eval(k.value, frame)
        arity, boolean = self.arity(kw, frame)
        where = f"{frame.module.name}:{call.lineno}"
        if positional is not None:
            self.positionals.append((positional, arity))
            return
        if not options:
            raise ExtractError(f"{where}: add_argument without an option string")
        dest = kw.get("dest")
        self.actions.append(Action(options, arity, boolean, dest.value if isinstance(dest, Str) else None, where))

    def arity(self, kw: dict, frame: Frame) -> Tuple[str, bool]:
        action = kw.get("action")
        if isinstance(action, Str):
            action = action.value
        if action == "BooleanOptionalAction":
            return "0", True
        if isinstance(action, ClassRef):
            if self.index.is_subclass_named(action.info, ("BooleanOptionalAction",)):
                return "0", True
            init = self.index.method(action.info, "__init__")
            if init and "nargs=0" in ast.unparse(init[1]):
                return "0", False
            action = None
        if action in ZERO_ACTIONS:
            return "0", False
        nargs = kw.get("nargs")
        if isinstance(nargs, Str):
            nargs = nargs.value
        if isinstance(nargs, str):
            return nargs, False
        if isinstance(nargs, int) and not isinstance(nargs, bool):
            return str(nargs), False
        return "1", False


# --------------------------------------------------------------------------- the parser's own rules

def enable_disable_inverses(index: Index) -> Dict[str, str]:
    """vLLM >= 0.3x registers EnableDisableAction for BooleanOptionalAction: `--enable-x` also
    gets `--disable-x` and the reverse. Returns the prefix map when this release does so."""
    for name in index.paths:
        if "argparse" not in name and name != "vllm.utils":
            continue
        m = index.module(name)
        node = m.classes.get("FlexibleArgumentParser") if m else None
        if node is None:
            continue
        for stmt in ast.walk(node):
            if isinstance(stmt, ast.Call) and isinstance(stmt.func, ast.Attribute) \
                    and stmt.func.attr == "register" and len(stmt.args) == 3:
                first = stmt.args[0]
                if isinstance(first, ast.Constant) and first.value == "action":
                    r = index.resolve_expr(m.name, stmt.args[2])
                    if r and r[0] == "class":
                        for s in r[1].node.body:
                            if isinstance(s, ast.Assign) and any(
                                    getattr(t, "id", "") == "_inverse_prefixes" for t in s.targets):
                                value = ast.literal_eval(s.value)
                                if isinstance(value, dict):
                                    return {str(k): str(v) for k, v in value.items()}
    return {}


def expand(action: Action, inverses: Dict[str, str]) -> List[str]:
    opts = list(action.options)
    if action.boolean_optional:
        for o in action.options:
            if o.startswith("--"):
                opts.append("--no-" + o[2:])
        for o in action.options:
            for prefix, inverse in inverses.items():
                if o.startswith(prefix):
                    opts.append(inverse + o[len(prefix):])
    seen, out = set(), []
    # Long options first (the first is the canonical name, as argparse's dest), then short ones.
    for o in [x for x in opts if x.startswith("--")] + [x for x in opts if not x.startswith("--")]:
        if o not in seen:
            seen.add(o)
            out.append(o)
    return out


def extract(source_dir: str, warn=None):
    warnings: List[str] = []
    warn = warn or warnings.append
    index = Index(source_dir)
    m = index.module(ROOT_MODULE)
    if m is None or ROOT_CLASS not in m.classes:
        raise ExtractError(f"{ROOT_MODULE}.{ROOT_CLASS} not found: not a vLLM release with `vllm serve`")
    cls = ClassInfo(m, m.classes[ROOT_CLASS])
    found = index.method(cls, ROOT_METHOD)
    if not found:
        raise ExtractError(f"{ROOT_CLASS}.{ROOT_METHOD} not found")
    interp = Interpreter(index, warn)
    # subparser_init(self, subparsers): the `subparsers` object makes the serve parser.
    interp.call_function(found[0].module, found[1], [Parser()], {}, cls, found[0], bound_first=True)
    if not interp.actions:
        raise ExtractError("no add_argument reached from ServeSubcommand.subparser_init")
    inverses = enable_disable_inverses(index)
    lines, seen = [], {}
    for a in interp.actions:
        opts = expand(a, inverses)
        for o in opts:
            if o in seen:
                raise ExtractError(f"option {o} is defined twice ({seen[o]} and {a.where}); argparse "
                                   "would refuse it, so this reading is wrong")
            seen[o] = a.where
        lines.append((a.arity, opts))
    return lines, interp.positionals, warnings, bool(inverses)


# --------------------------------------------------------------------------- wheels and output

def requires_python(source_dir: str) -> Optional[str]:
    """Requires-Python of the release's METADATA (what interpreters its wheels install on)."""
    for d in os.listdir(source_dir):
        if d.startswith("vllm-") and d.endswith(".dist-info"):
            try:
                with open(os.path.join(source_dir, d, "METADATA"), encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("Requires-Python:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():
                            break
            except OSError:
                return None
    return None


def version_of(source_dir: str) -> Optional[str]:
    for d in os.listdir(source_dir):
        if d.startswith("vllm-") and d.endswith(".dist-info"):
            return d[len("vllm-"):-len(".dist-info")]
    return None


def download(version: str, dest: str) -> str:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.12", "--implementation", "cp", "-d", dest]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    cmd.append(f"vllm=={version}")
    print(f"[vllm-flags] {' '.join(cmd)}", file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    for f in os.listdir(dest):
        if f.startswith(f"vllm-{version}-") and f.endswith(".whl"):
            return os.path.join(dest, f)
    raise ExtractError(f"pip download left no vllm-{version}-*.whl in {dest}")


def unpack(wheel: str, dest: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if (n.startswith("vllm/") and n.endswith(".py")) or ".dist-info/" in n:
                z.extract(n, dest)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def render(version: str, origin: str, lines, positionals, enable_disable: bool, python: Optional[str] = None) -> str:
    out = [
        f"# vLLM {version}: the options of `vllm serve`, read from {origin}",
        "# by tools/vllm-flags/vllm_flags.py (ast, vLLM not imported). Do not edit by hand.",
        "# One action per line: ARITY OPTION [OPTION...]; ARITY 0 = no value, 1 = one value,",
        "# ? = optional value, + = one or more, * = zero or more, N = exactly N.",
        f"# enable-disable-pairs: {'yes' if enable_disable else 'no'}",
    ] + ([f"# requires-python: {python}"] if python else []) + [
        f"# actions: {len(lines)}, option strings: {sum(len(o) for _, o in lines)}",
    ]
    for name, arity in positionals:
        out.append(f"positional {name} {arity}")
    for arity, opts in sorted(lines, key=lambda x: x[1][0]):
        out.append(f"{arity} {' '.join(opts)}")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("version", nargs="?", help="a vLLM release to download from the package index")
    p.add_argument("--wheel", help="a vllm-*.whl file")
    p.add_argument("--source", help="an unpacked tree holding vllm/")
    p.add_argument("--version", dest="version_opt", help="the version, with --source")
    p.add_argument("--out", help="write the fixture here (default: stdout)")
    p.add_argument("--strict", action="store_true", help="fail on any warning")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vllm-flags-") as tmp:
        if a.source:
            source, origin = a.source, "a source tree"
            version = a.version_opt or version_of(a.source)
            if not version:
                p.error("--source needs --version (no vllm-*.dist-info there)")
        else:
            wheel = a.wheel or (download(a.version, tmp) if a.version else None)
            if wheel is None:
                p.error("give a VERSION, --wheel or --source")
            source = os.path.join(tmp, "src")
            unpack(wheel, source)
            version = version_of(source) or a.version or "unknown"
            origin = f"{os.path.basename(wheel)} (sha256 {sha256(wheel)[:16]}...)"
        try:
            lines, positionals, warnings, enable_disable = extract(source)
        except ExtractError as e:
            print(f"[vllm-flags] error: {e}", file=sys.stderr)
            return 1
        python = requires_python(source)
    for w in warnings:
        print(f"[vllm-flags] warning: {w}", file=sys.stderr)
    if warnings and a.strict:
        print(f"[vllm-flags] {len(warnings)} warning(s) with --strict: no fixture written", file=sys.stderr)
        return 1
    text = render(version, origin, lines, positionals, enable_disable, python)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"[vllm-flags] vLLM {version}: {len(lines)} options written to {a.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
