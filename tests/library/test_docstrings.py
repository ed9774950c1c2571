"""Docstrings as contracts: their examples run, and they say what every argument is and what comes back.

Three tests:

* ``test_docstring_examples``: every module of ``stnlib`` (the library, ``stnlib.course`` and
  ``stnlib.lessons``), found by :func:`pkgutil.walk_packages`, runs its docstring examples with
  ``NORMALIZE_WHITESPACE | ELLIPSIS``. Only a module that cannot be imported without an optional
  package is skipped, saying which package.
* ``test_has_runnable_example``: the entry points a reader meets first (``MUST_HAVE_EXAMPLE``) each
  carry at least one doctest example.
* ``test_docstring_contract``: every public function and class of the library (``stnlib`` outside
  ``stnlib.course`` and ``stnlib.lessons``; public = listed in the module's ``__all__`` if it has
  one, else a name not starting with ``_`` defined in that module) has a docstring that

  (a) names each of its parameters as a word somewhere in the text (``self``, ``cls``, ``*args``
      and ``**kwargs`` excepted); for a class, the parameters of the ``__init__`` (or ``__new__``,
      or the dataclass fields) it defines itself, named in the class docstring or its
      ``__init__``'s;
  (b) says what it returns, if it returns something (a return annotation other than ``None``, or
      without an annotation a ``return <value>`` or ``yield`` in its body): either a line that
      starts with ``Returns`` or ``Yields`` (a ``Returns:`` section, or a sentence "Returns the
      ..."), or a first line that starts with the returned thing, i.e. with
      ``The``, ``A``, ``An``, ``Return``, ``Returns`` or a ````literal````
      (``"The mean error in %."``, ``"``(V, θ)``: ..."``).
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
import textwrap
import time

import pytest

import stnlib

#: optional packages a module may need; without them the module is skipped (with the reason)
OPTIONAL = {"ipywidgets", "IPython", "papermill", "nbclient", "nbformat", "nbgrader", "jupyterlab",
            "playwright"}

#: entry points that must show a runnable example (module, qualified name)
MUST_HAVE_EXAMPLE = [
    ("stnlib.train", "train"),
    ("stnlib.data.catalog", "load"),
    ("stnlib.transformer", "SpatialTransformer"),
    ("stnlib.warping", "warp"),
    ("stnlib.warping", "warp_1d"),
    ("stnlib.equivariance", "misalignment"),
    ("stnlib.equivariance", "map_geometry"),
    ("stnlib.equivariance", "theta_on_map"),
    ("stnlib.equivariance", "predicted_angle"),
    ("stnlib.equivariance", "orthogonal_fit"),
]

#: a docstring example slower than this (seconds) is training or loading data, which it must not
SLOW_EXAMPLE_S = 10.0

FIRST_LINE_RETURNS = re.compile(r"^(The|A|An|Return|Returns)\b|^``")
RETURNS_SECTION = re.compile(r"^\s*(Returns|Yields)\b", re.MULTILINE)
SKIPPED_PARAMETERS = {"self", "cls"}


def all_modules() -> list[str]:
    """Every module of stnlib, found by walking the package."""
    names = ["stnlib"]
    names += [info.name for info in pkgutil.walk_packages(stnlib.__path__, "stnlib.")]
    return sorted(names)


def library_modules() -> list[str]:
    """The library's public modules: not the course, not the lessons, not ``_private`` ones."""
    return [name for name in all_modules()
            if not name.startswith(("stnlib.course", "stnlib.lessons"))
            and not any(part.startswith("_") for part in name.split("."))]


def import_or_skip(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing = getattr(error, "name", None) or ""
        if missing.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional package {missing!r}")
        raise


@pytest.mark.parametrize("name", all_modules())
def test_docstring_examples(name):
    module = import_or_skip(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    failed, slow = [], []
    for test in finder.find(module, name):
        if not test.examples:
            continue
        start = time.perf_counter()
        result = runner.run(test, out=lambda _text: None)
        took = time.perf_counter() - start
        if result.failed:
            failed.append(test.name)
        if took > SLOW_EXAMPLE_S:
            slow.append(f"{test.name} ({took:.1f} s)")
    if failed:  # run them again, printing the failures, so the report shows what differed
        for test in finder.find(module, name):
            if test.name in failed:
                doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS).run(test)
    assert not failed, f"docstring examples failed in {name}: {failed}"
    assert not slow, f"docstring examples slower than {SLOW_EXAMPLE_S} s in {name}: {slow}"


def resolve(module_name: str, qualname: str):
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("module", "qualname"), MUST_HAVE_EXAMPLE, ids=[".".join(m) for m in MUST_HAVE_EXAMPLE])
def test_has_runnable_example(module, qualname):
    try:
        obj = resolve(module, qualname)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{module}.{qualname} should exist and show an example; it does not: {error}")
    texts = [inspect.getdoc(obj) or ""]
    if inspect.isclass(obj) and "__init__" in vars(obj):
        texts.append(inspect.getdoc(obj.__init__) or "")
    examples = [example for text in texts for example in doctest.DocTestParser().get_examples(text)]
    assert examples, f"{module}.{qualname} has no runnable (doctest) example in its docstring"


def public_items() -> dict[str, object]:
    """``"module.qualname" -> function or class`` for every public item of the library, once."""
    items = {}
    for name in library_modules():
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            if (getattr(error, "name", None) or "").split(".")[0] in OPTIONAL:
                continue
            raise
        names = getattr(module, "__all__", None)
        if names is None:
            names = [key for key, value in vars(module).items()
                     if not key.startswith("_") and getattr(value, "__module__", None) == name]
        for key in names:
            value = getattr(module, key)
            if inspect.isfunction(value) or inspect.isclass(value):
                items[f"{value.__module__}.{value.__qualname__}"] = value
    return dict(sorted(items.items()))


def own_constructor(cls):
    """The ``__init__`` or ``__new__`` a class defines itself (a dataclass's generated one counts)."""
    for method in ("__init__", "__new__"):
        if method in vars(cls):
            return getattr(cls, method)
    return None


def parameters_of(obj) -> list[str]:
    if inspect.isclass(obj):
        constructor = own_constructor(obj)
        if constructor is None:
            return []
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            return []
    else:
        signature = inspect.signature(obj)
    return [p.name for p in signature.parameters.values()
            if p.name not in SKIPPED_PARAMETERS
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def returns_something(function) -> bool:
    """A return annotation other than ``None``, or (without one) ``return <value>`` / ``yield``."""
    annotation = inspect.signature(function).return_annotation
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, "None")
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0]

    def own_nodes(node):  # the function's own statements, not those of functions nested in it
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            yield child
            yield from own_nodes(child)

    return any((isinstance(node, ast.Return) and node.value is not None
                and not (isinstance(node.value, ast.Constant) and node.value.value is None))
               or isinstance(node, (ast.Yield, ast.YieldFrom)) for node in own_nodes(body))


def contract_problems(qualified: str, obj) -> list[str]:
    doc = inspect.getdoc(obj) if obj.__doc__ else None
    if inspect.isclass(obj):
        doc = obj.__doc__ and inspect.cleandoc(obj.__doc__)
        constructor = own_constructor(obj)
        if constructor is not None and getattr(constructor, "__doc__", None) and \
                constructor.__qualname__.startswith(obj.__qualname__):
            doc = (doc or "") + "\n" + inspect.cleandoc(constructor.__doc__)
    if not doc:
        return [f"{qualified}: no docstring"]
    problems = []
    unnamed = [p for p in parameters_of(obj) if not re.search(rf"(?<!\w){re.escape(p)}(?!\w)", doc)]
    if unnamed:
        problems.append(f"{qualified}: the docstring does not name {', '.join(unnamed)}")
    if inspect.isfunction(obj) and returns_something(obj):
        first = doc.strip().splitlines()[0]
        if not (RETURNS_SECTION.search(doc) or FIRST_LINE_RETURNS.search(first)):
            problems.append(f"{qualified}: returns something but has no 'Returns:' section and its "
                            f"first line does not start with the returned thing")
    return problems


def test_library_is_found():
    items = public_items()
    assert "stnlib.train.train" in items and "stnlib.warping.warp" in items
    assert len(items) > 150


def test_docstring_contract():
    problems = [problem for qualified, obj in public_items().items()
                for problem in contract_problems(qualified, obj)]
    assert not problems, f"{len(problems)} public items break the docstring contract:\n" + "\n".join(problems)
