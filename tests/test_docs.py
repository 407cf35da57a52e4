"""The API reference (docs/api/*.md) lists every public name, each on its layer's page, and every public
name carries the numpydoc sections the reference is built from (`mkdocs build --strict` checks the rest)."""

import re
from pathlib import Path

import krg_liquidity as krg

API = Path(__file__).resolve().parents[1] / "docs" / "api"


def test_every_public_name_is_on_its_layers_page() -> None:
    listed: dict[str, str] = {}
    for page in sorted(API.glob("*.md")):
        for target in re.findall(r"^::: krg_liquidity\.(\S+)$", page.read_text(), flags=re.M):
            name = target.rsplit(".", 1)[-1]
            assert name not in listed, f"{name} is on both {listed[name]} and {page.name}"
            listed[name] = page.name
    assert set(listed) == set(krg.__all__)
    for name, page in listed.items():
        obj = getattr(krg, name)
        module = getattr(obj, "__module__", None) or type(obj).__module__
        if module == "builtins":  # a value (STATUSES): its page is where it is defined, checked by hand
            continue
        layer = module.split(".")[1]
        assert page == f"{layer}.md", f"{name} is defined in {module} but listed on {page}"


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^(\w+)\n-+$", doc, flags=re.M))


def test_public_functions_carry_numpydoc_sections() -> None:
    import inspect

    missing = {}
    for name in krg.__all__:
        obj = getattr(krg, name)
        doc = inspect.getdoc(obj) or ""
        if inspect.isfunction(obj):
            need = {"Returns", "Examples"} | ({"Parameters"} if inspect.signature(obj).parameters else set())
        elif inspect.isclass(obj):
            own_arguments = "__init__" in vars(obj)  # an exception taking just its message has none to list
            need = {"Parameters"} if own_arguments and not ({"Parameters", "Attributes"} & _sections(doc)) else set()
        else:
            continue
        if need - _sections(doc):
            missing[name] = sorted(need - _sections(doc))
    assert not missing, f"public names without their numpydoc sections: {missing}"


def _documented_parameters(doc: str) -> set[str]:
    section = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n\w[\w ]*\n-+\n|\Z)", doc, flags=re.S | re.M)
    names: set[str] = set()
    for line in section.group(1).splitlines() if section else ():
        if line and not line.startswith(" "):  # "a, b : type" names one or more parameters
            names |= {part.strip().lstrip("*") for part in line.split(" : ")[0].split(",")}
    return names


def test_every_parameter_of_a_public_function_is_documented() -> None:
    import inspect

    gaps = {}
    for name in krg.__all__:
        obj = getattr(krg, name)
        if not inspect.isfunction(obj):
            continue
        wanted = set(inspect.signature(obj).parameters)
        documented = _documented_parameters(inspect.getdoc(obj) or "")
        if wanted != documented:
            gaps[name] = {"undocumented": sorted(wanted - documented), "not a parameter": sorted(documented - wanted)}
    assert not gaps, f"Parameters sections out of step with the signatures: {gaps}"
