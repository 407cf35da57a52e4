"""The package's layers: each folder imports only the folders below it, and no module takes another's private names."""

import ast
from pathlib import Path

import krg_liquidity

PACKAGE = Path(krg_liquidity.__file__).parent
# Bottom to top; a module may import its own layer and the layers before it.
LAYERS = ("core", "book", "model", "solve", "schedule", "whatif", "report", "posttrade", "batch", "desk", "cli")


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "krg_liquidity" and parts[1] in LAYERS else None


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken, line) for every import in ``path``, function-local ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
    return found


def modules() -> list[tuple[str, Path]]:
    return [(".".join(("krg_liquidity", *path.relative_to(PACKAGE).with_suffix("").parts)), path)
            for path in sorted(PACKAGE.rglob("*.py")) if "_data" not in path.parts]


def test_every_module_sits_in_a_layer():
    flat = [name for name, path in modules() if path.parent == PACKAGE and path.stem not in ("__init__", "__main__")]
    assert flat == []


def test_no_layer_imports_a_layer_above_it():
    upward = []
    for name, path in modules():
        own = layer_of(name)
        if own is None:
            continue
        for target, _, line in imports(path):
            other = layer_of(target)
            if other is not None and LAYERS.index(other) > LAYERS.index(own):
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
            if target == "krg_liquidity" and own is not None:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports the package's face")
    assert upward == []


def test_no_module_takes_another_modules_private_names():
    private = [f"{path.relative_to(PACKAGE)}:{line} takes {names} from {target}"
               for name, path in modules() for target, names, line in imports(path)
               if target.startswith("krg_liquidity") and target != name
               and any(n.startswith("_") and not n.startswith("__") for n in names)]
    assert private == []
