"""Mutation testing of the rulebook and the vote, reputation and moderation services.

    python -m tools.mutate                       # every module in tools/mutate.toml
    python -m tools.mutate kb/services/votes.py  # one module
    python -m tools.mutate --list kb/permissions.py   # the mutants, without running them
    python -m tools.mutate kb/permissions.py --only 3 17 --tests tests/kb/test_privileges.py
                                                 # check chosen mutants against chosen tests

Why our own small tool: mutmut 3 skips decorated functions (every `@transaction.atomic` service
entry point) and cosmic-ray runs the whole test command per mutant. This one mutates inside every
function, decorated or not, and runs only the tests that execute the mutated line:

1. Coverage (dynamic context per test function) maps each line of the module to the tests that
   run it, over the module's test files (tools/mutate.toml).
2. Mutants, one change each, inside function bodies (module-level constants are not mutated):
   comparison flips (< <=, > >=, == !=, in / not in, is / is not), boolean flips (and / or,
   `not x` -> x, True / False), constants (an integer n -> n + 1), and statement deletion (a
   call, assignment, raise or return replaced by `pass`: this is how a removed row lock looks).
3. For each mutant a forked child swaps the mutated function's code object in place (so every
   `from module import f`, and the function under a decorator, runs the mutant) and runs those
   tests with pytest, stopping at the first failure. A failure or a timeout kills the mutant; a
   pass lets it survive; a mutant no test executes survives too ("not covered").
4. Mutants listed in tools/mutate.toml as equivalent (no behaviour can tell them apart, each
   with a reason) are left out of the score.

Score per module = killed / (mutants - equivalent). Run it niced; it is CPU-heavy
(`make mutate` does `nice -n 19`).
"""

import argparse
import ast
import copy
import importlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tools" / "mutate.toml"

COMPARE_FLIPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}  # fmt: skip
DELETABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Return)


@dataclass
class Mutant:
    number: int
    function: str  # qualified name of the top-level function or method that holds it
    line: int
    end_line: int
    kind: str
    original: str
    mutated: str
    tree: ast.Module  # the whole module with this one change

    @property
    def key(self) -> str:
        """Stable across unrelated edits: function, kind and the changed source text."""
        return f"{self.function}: {self.kind}: {self.original} -> {self.mutated}"


# --- Finding mutants ------------------------------------------------------------------------


class _Collector(ast.NodeVisitor):
    """Walks function bodies and records (path to node, change) pairs."""

    def __init__(self):
        self.points: list[tuple[str, list, str]] = []  # (function, path, kind)
        self._function: str | None = None
        self._path: list = []
        self._scope: list[str] = []

    def generic_visit(self, node):
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        self._path.append((name, index))
                        self.visit(item)
                        self._path.pop()
            elif isinstance(value, ast.AST):
                self._path.append((name, None))
                self.visit(value)
                self._path.pop()

    def _visit_scope(self, node):
        self._scope.append(node.name)
        outer = self._function
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and outer is None:
            self._function = ".".join(self._scope)
        # decorators and defaults are evaluated at import time: not mutated
        for index, statement in enumerate(node.body):
            self._path.append(("body", index))
            self.visit(statement)
            self._path.pop()
        self._function = outer
        self._scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_scope

    def _add(self, kind: str):
        if self._function is not None:
            self.points.append((self._function, list(self._path), kind))

    def visit_Compare(self, node):
        for index, op in enumerate(node.ops):
            if type(op) in COMPARE_FLIPS:
                self._add(f"compare:{index}")
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        self._add("boolop")
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self._add("not")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, bool) or (
            isinstance(node.value, int) and not isinstance(node.value, bool)
        ):
            self._add("constant")

    def visit_JoinedStr(self, node):
        return  # f-strings: messages, not rules

    def _statement(self, node):
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, DELETABLE) and not is_docstring:
            self._add("delete")
        self.generic_visit(node)

    visit_Expr = visit_Assign = visit_AugAssign = visit_AnnAssign = _statement
    visit_Raise = visit_Return = _statement


def _node_at(tree: ast.AST, path: list):
    parent, node = None, tree
    field, index = None, None
    for field, index in path:
        parent = node
        node = getattr(node, field) if index is None else getattr(node, field)[index]
    return parent, field, index, node


def _apply(tree: ast.Module, path: list, kind: str) -> tuple[str, str] | None:
    """Change the node at `path` in `tree` (a copy); (original, mutated) source, or None."""
    parent, field, index, node = _node_at(tree, path)
    original = ast.unparse(node)
    if kind.startswith("compare:"):
        position = int(kind.split(":")[1])
        node.ops[position] = COMPARE_FLIPS[type(node.ops[position])]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "not":
        replacement = node.operand
        if index is None:
            setattr(parent, field, replacement)
        else:
            getattr(parent, field)[index] = replacement
        return original, ast.unparse(replacement)
    elif kind == "constant":
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
    elif kind == "delete":
        replacement = ast.copy_location(ast.Pass(), node)
        getattr(parent, field)[index] = replacement
        return original.splitlines()[0], "pass"
    return original, ast.unparse(node)


def mutants_of(path: Path) -> list[Mutant]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    collector = _Collector()
    collector.visit(tree)
    found = []
    seen: dict[str, int] = {}
    for function, node_path, kind in collector.points:
        changed = copy.deepcopy(tree)
        _parent, _field, _index, node = _node_at(changed, node_path)
        line, end_line = node.lineno, getattr(node, "end_lineno", node.lineno)
        result = _apply(changed, node_path, kind)
        if result is None:
            continue
        original, mutated = result
        ast.fix_missing_locations(changed)
        label = kind.split(":")[0]
        mutant = Mutant(len(found) + 1, function, line, end_line, label, original, mutated,
                        changed)  # fmt: skip
        count = seen.get(mutant.key, 0) + 1
        seen[mutant.key] = count
        if count > 1:  # the same text twice in one function: number them
            mutant.mutated += f"  #{count}"
        found.append(mutant)
    return found


# --- Which tests run which line ---------------------------------------------------------------


def line_tests(module_path: Path, test_files: list[str], data_dir: Path) -> dict[int, set[str]]:
    """Run the module's tests once under coverage with a context per test; line -> node ids."""
    data_file = data_dir / f".coverage.{module_path.stem}"
    rc = data_dir / ".coveragerc"
    rc.write_text(f"[run]\ndynamic_context = test_function\ninclude = {module_path}\n")
    command = [
        sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={data_file}",
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reuse-db", "-x", *test_files,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        sys.exit(f"The tests fail without any mutant:\n{output}")
    import coverage

    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    by_line: dict[int, set[str]] = {}
    for measured in data.measured_files():
        if Path(measured).resolve() != module_path.resolve():
            continue
        for line, contexts in data.contexts_by_lineno(measured).items():
            by_line[line] = {_node_id(c) for c in contexts if c}
    return by_line


def _node_id(context: str) -> str:
    """coverage's test_function context (tests.kb.test_votes.test_x) as a pytest node id."""
    parts = context.split(".")
    for split in range(len(parts) - 1, 0, -1):
        candidate = ROOT / Path(*parts[:split]).with_suffix(".py")
        if candidate.exists():
            return f"{candidate.relative_to(ROOT)}::{'::'.join(parts[split:])}"
    return context


# --- Running one mutant ---------------------------------------------------------------------


def _live_functions(module) -> dict[str, object]:
    """Qualified name -> the plain function object (under any decorator) of a module."""
    found = {}

    def add(name, value):
        value = inspect.unwrap(value) if callable(value) else value
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            found[name] = value

    for name, value in vars(module).items():
        if inspect.isclass(value) and value.__module__ == module.__name__:
            for attribute, member in vars(value).items():
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                elif isinstance(member, property):
                    member = member.fget
                add(f"{name}.{attribute}", member)
        else:
            add(name, value)
    return found


def _code_objects(code, found: dict[str, object]):
    found[code.co_qualname] = code
    for constant in code.co_consts:
        if inspect.iscode(constant):
            _code_objects(constant, found)
    return found


def _run_mutant(mutant: Mutant, module, filename: str, tests: list[str], timeout: float) -> str:
    """'killed', 'survived' or 'timeout', in a forked child that runs the mutant."""
    pid = os.fork()
    if pid == 0:  # the child: swap the code, run the tests, report by exit code
        try:
            os.setpgid(0, 0)
            code = compile(mutant.tree, filename, "exec")
            new_code = _code_objects(code, {})[mutant.function]
            _live_functions(module)[mutant.function].__code__ = new_code
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            arguments = ["-q", "-x", "-p", "no:cacheprovider", "--reuse-db", *tests]
            status = pytest.main(arguments)
            os._exit(0 if status == 0 else 1)
        except BaseException:  # noqa: BLE001 - anything here means the mutant broke something
            os._exit(1)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.05)


def run_module(
    name: str,
    settings: dict,
    *,
    only: set[int] | None,
    report: dict,
    tests: list[str] | None = None,
) -> dict:
    """Run the module's mutants (those in `only`, if given). With `tests` (files or node ids),
    skip the coverage baseline and run those tests against every mutant: the quick check that a
    new test kills the survivors it was written for."""
    module_path = ROOT / name
    module = importlib.import_module(name.removesuffix(".py").replace("/", "."))
    mutants = mutants_of(module_path)
    equivalent = settings.get("equivalent", {})
    data_dir = ROOT / ".data" / "mutate"
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    by_line = {} if tests else line_tests(module_path, settings["tests"], data_dir)
    baseline = time.monotonic() - started
    test_files = {test.split("::")[0] for test in tests or settings["tests"]}
    for test_file in sorted(test_files):  # imported once here, not in every child
        importlib.import_module(test_file.removesuffix(".py").replace("/", "."))
    results = {"killed": 0, "timeout": 0, "survived": 0, "not covered": 0, "equivalent": 0}
    survivors = []
    for mutant in mutants:
        if only and mutant.number not in only:
            continue
        if mutant.key in equivalent:
            results["equivalent"] += 1
            continue
        lines = range(mutant.line, mutant.end_line + 1)
        covering = tests or sorted(set().union(*(by_line.get(n, set()) for n in lines)))
        if not covering:
            outcome = "not covered"
        else:
            outcome = _run_mutant(mutant, module, str(module_path), covering,
                                  timeout=max(120.0, 3 * baseline))  # fmt: skip
        results[outcome] += 1
        if outcome in ("survived", "not covered"):
            survivors.append({"number": mutant.number, "line": mutant.line, "key": mutant.key,
                              "outcome": outcome})  # fmt: skip
        print(f"  {outcome} #{mutant.number} line {mutant.line}: {mutant.key}", flush=True)
    scored = sum(results[k] for k in ("killed", "timeout", "survived", "not covered"))
    killed = results["killed"] + results["timeout"]
    score = 100.0 * killed / scored if scored else 100.0
    report[name] = {**results, "score": round(score, 1), "survivors": survivors}
    print(f"{name}: {killed}/{scored} killed ({score:.1f}%), {results['equivalent']} equivalent "
          f"left out, {time.monotonic() - started:.0f}s", flush=True)  # fmt: skip
    return report[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all configured)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--only", type=int, nargs="*", help="run only these mutant numbers")
    parser.add_argument(
        "--tests",
        nargs="+",
        help="skip the coverage baseline and run these test files or node ids against every "
        "mutant (with --only: check that new tests kill chosen survivors)",
    )
    parser.add_argument("--report", default=".data/mutate/report.json")
    arguments = parser.parse_args()
    config = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["modules"]
    names = arguments.modules or list(config)
    if arguments.list:
        for name in names:
            for mutant in mutants_of(ROOT / name):
                print(f"{name} #{mutant.number} line {mutant.line}: {mutant.key}")
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["MIANJING_MUTATE"] = "1"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    report: dict = {}
    for name in names:
        run_module(name, config[name], only=set(arguments.only or ()), report=report,
                   tests=arguments.tests)  # fmt: skip
    path = ROOT / arguments.report
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\nmodule                          killed  scored  equivalent  score")
    for name, result in report.items():
        killed = result["killed"] + result["timeout"]
        scored = killed + result["survived"] + result["not covered"]
        print(f"{name:32} {killed:6} {scored:7} {result['equivalent']:11} {result['score']:5}%")


if __name__ == "__main__":
    main()
