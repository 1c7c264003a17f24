"""Writes the flare-job component catalog from the installed nvflare (numpy-only classes).

Usage: python make_catalog.py [OUT.json]   (stdout when OUT is omitted)

For every FLComponent class importable without torch / tensorflow under the scanned packages it
records the constructor arguments nvflare's job export reads (`get_component_init_parameters`):
name, type, default, whether required, and whether the constructed object keeps the value (only
kept values are exported). `defaults_export` is what nvflare writes for the optional arguments of a
default-constructed object (a class may store `x or {}` for a `None` default).
"""

import builtins
import enum
import importlib
import inspect
import json
import logging
import pkgutil
import sys
import tempfile
import types
import typing
import warnings

logging.disable(logging.CRITICAL)
warnings.simplefilter("ignore")

import nvflare  # noqa: E402
from nvflare.apis.executor import Executor  # noqa: E402
from nvflare.apis.filter import Filter  # noqa: E402
from nvflare.apis.fl_component import FLComponent  # noqa: E402
from nvflare.apis.impl.controller import Controller  # noqa: E402
from nvflare.fuel.utils.class_utils import get_component_init_parameters  # noqa: E402
from nvflare.job_config.fed_job_config import FedJobConfig  # noqa: E402

PACKAGES = ["nvflare.app_common", "nvflare.widgets"]
# Modules that need optional packages or start services on import.
SKIP_PREFIXES = ("nvflare.app_common.psi", "nvflare.app_common.tie", "nvflare.app_common.hub")
# Values for required arguments so that a class can be probed; by class name.
REQUIRED_OVERRIDES = {
    "ClientAPIExecutor": {"execution_mode": "in_process", "task_script_path": "x.py"},
}


def type_of(annotation, default):
    """(type, nullable, choices) of an annotation."""
    if annotation is inspect.Parameter.empty:
        return "any", default is None, None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        non_none = [a for a in args if a is not type(None)]
        nullable = len(non_none) != len(args) or default is None
        if len(non_none) == 1:
            t, _, choices = type_of(non_none[0], inspect.Parameter.empty)
            return t, nullable, choices
        kinds = sorted({type_of(a, inspect.Parameter.empty)[0] for a in non_none})
        if kinds == ["float", "int"]:
            return "float", nullable, None
        return "any", nullable, None
    if origin in (list, typing.List, tuple, set):
        return "list", default is None, None
    if origin in (dict, typing.Dict):
        return "dict", default is None, None
    if origin is typing.Literal:
        values = list(args)
        kind = "str" if all(isinstance(v, str) for v in values) else "any"
        return kind, default is None, values
    if inspect.isclass(annotation):
        if issubclass(annotation, enum.Enum):
            values = [m.value for m in annotation]
            kind = "str" if all(isinstance(v, str) for v in values) else "any"
            return kind, default is None, values
        for py, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"), (dict, "dict"), (tuple, "list")):
            if annotation is py:
                return name, default is None, None
    return "any", default is None, None


def json_default(value):
    """(json value, representable)."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None, False
    if value is not None and type(value).__name__ not in dir(builtins):
        return None, False
    return json.loads(text), True


def dummy(kind):
    return {"str": "x", "int": 1, "float": 1.0, "bool": False, "list": [], "dict": {}}.get(kind, "x")


def kind_of(cls):
    if issubclass(cls, Controller):
        return "controller"
    if issubclass(cls, Executor):
        return "executor"
    if issubclass(cls, Filter):
        return "filter"
    return "component"


def describe(cls, custom_dir):
    try:
        params = get_component_init_parameters(cls.__new__(cls))
    except (TypeError, ValueError):
        return None
    args = []
    accepts_kwargs = False
    required_values = {}
    for name, p in params.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or name in ("self", "args", "kwargs"):
            accepts_kwargs = accepts_kwargs or p.kind == p.VAR_KEYWORD
            continue
        required = p.default is inspect.Parameter.empty
        default = None if required else p.default
        kind, nullable, choices = type_of(p.annotation, default)
        entry = {"name": name, "type": kind, "nullable": bool(nullable), "required": required}
        if not required:
            value, ok = json_default(default)
            entry["default"] = value
            if not ok:
                entry["default_is_object"] = True
        if choices is not None:
            entry["choices"] = choices
        args.append(entry)
        if required:
            required_values[name] = REQUIRED_OVERRIDES.get(cls.__name__, {}).get(name, dummy(kind))
    entry = {
        "path": f"{cls.__module__}.{cls.__name__}",
        "kind": kind_of(cls),
        "args": args,
    }
    if accepts_kwargs:
        entry["accepts_kwargs"] = True
    always = sorted(getattr(cls, "_always_serialize_args", ()))
    if always:
        entry["always_serialize"] = always
    # Probe: construct with defaults (and placeholders for required arguments) and see what nvflare
    # would export and which arguments the object keeps.
    for name, value in REQUIRED_OVERRIDES.get(cls.__name__, {}).items():
        required_values.setdefault(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = cls(**required_values)
        attrs = obj.__dict__
        exported = FedJobConfig("probe", 1)._get_args(obj, custom_dir)
    except Exception:
        entry["probed"] = False
        return entry
    entry["probed"] = True
    for a in entry["args"]:
        if a["name"] not in attrs and "_" + a["name"] not in attrs:
            a["stored"] = False
    defaults_export = {k: v for k, v in exported.items() if k not in required_values}
    try:
        json.dumps(defaults_export, allow_nan=False)
    except (TypeError, ValueError):
        defaults_export = {}
        entry["probed"] = False
    if defaults_export:
        entry["defaults_export"] = defaults_export
    return entry


def main():
    classes = {}
    with tempfile.TemporaryDirectory() as custom_dir:
        for package_name in PACKAGES:
            package = importlib.import_module(package_name)
            for info in pkgutil.walk_packages(package.__path__, package_name + "."):
                name = info.name
                if name.startswith(SKIP_PREFIXES) or ".tests" in name:
                    continue
                try:
                    module = importlib.import_module(name)
                except BaseException:
                    continue
                for _, cls in inspect.getmembers(module, inspect.isclass):
                    if cls.__module__ != name or not issubclass(cls, FLComponent) or inspect.isabstract(cls):
                        continue
                    if cls.__name__.startswith("_"):
                        continue
                    entry = describe(cls, custom_dir)
                    if entry:
                        classes[entry["path"]] = entry
    catalog = {
        "nvflare_version": nvflare.__version__,
        "packages": PACKAGES,
        "classes": [classes[k] for k in sorted(classes)],
    }
    text = json.dumps(catalog, indent=1, sort_keys=False) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
