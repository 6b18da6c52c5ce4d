"""The one JSON error shape, pinned."""

from ledgerlink.errors import (ConfigError, MappingError, Problem, RecipeError, SignatureError,
                               VendorError, error_body, error_body_for)


def test_error_shape_is_pinned():
    assert error_body(422, "invalid_recipe", "bad", [1]) == {
        "error": {"status": 422, "code": "invalid_recipe", "message": "bad", "details": [1]}}
    assert error_body(401, "invalid_signature", "no") == {
        "error": {"status": 401, "code": "invalid_signature", "message": "no"}}


def test_recipe_error_lists_every_problem():
    err = RecipeError([Problem("a.json", "/id", "bad id"), Problem("a.json", "", "bad json")])
    assert str(err) == "a.json:/id: bad id\na.json:/: bad json"
    assert error_body_for(err) == {"error": {
        "status": 422, "code": "invalid_recipe", "message": "2 problem(s) in recipes",
        "details": [{"file": "a.json", "pointer": "/id", "message": "bad id"},
                    {"file": "a.json", "pointer": "/", "message": "bad json"}]}}


def test_mapping_error_names_everything():
    err = MappingError("found nothing", recipe="r", step="s", pointer="/steps/0/input/x", path="$.event.x")
    assert str(err) == "recipe 'r', step 's', at /steps/0/input/x (path $.event.x): found nothing"
    assert error_body_for(err)["error"]["details"] == {
        "recipe": "r", "step": "s", "pointer": "/steps/0/input/x", "path": "$.event.x"}


def test_statuses_and_codes():
    assert (SignatureError("x").status, SignatureError("x").code) == (401, "invalid_signature")
    assert ConfigError("x").status == 400
    assert VendorError("x", kind="retry", retry_after=5).retry_after == 5


def test_vendor_error_kind_is_checked():
    try:
        VendorError("x", kind="maybe")
    except ValueError as exc:
        assert "permanent" in str(exc)
    else:
        raise AssertionError("an unknown kind must be refused")


def test_an_error_quotes_at_most_200_characters_of_a_value_and_says_how_long_it_is():
    from ledgerlink.errors import quoted

    assert quoted("short") == "'short'" and quoted(12) == "12"
    assert quoted("x" * 5000) == "'" + "x" * 200 + "'… (5000 characters)"
    long_list = quoted(list(range(1000)))
    assert long_list.startswith("[0, 1, 2") and long_list.endswith(f"… ({len(repr(list(range(1000))))} characters)")
    assert len(long_list) < 250
