import pytest

from helm_plugins.common.registry import Registry


def test_register_get_and_duplicates():
    registry = Registry("widget")
    registry.register("alpha", 1)

    @registry("beta")
    def beta():
        return 2

    assert registry.get("alpha") == 1 and registry.get("beta") is beta
    assert registry.names() == ["alpha", "beta"] and "beta" in registry
    with pytest.raises(ValueError, match="a widget named 'alpha' is already registered"):
        registry.register("alpha", 3)


def test_unknown_name_suggests_the_nearest():
    registry = Registry("optimizer")
    registry.register("adamw", object())
    with pytest.raises(ValueError, match="unknown optimizer 'adam'. Did you mean 'adamw'"):
        registry.get("adam")


def test_lazy_entries_are_imported_on_first_use():
    registry = Registry("function")
    registry.register("sqrt", "math:sqrt")
    assert registry.get("sqrt")(9.0) == 3.0
