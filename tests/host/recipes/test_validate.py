"""`ledgerlink validate`: every problem, one line each, FILE:POINTER: message that says the fix."""

import copy
import json

import pytest

from runtime_fixtures import RECIPES

BASE = json.loads((RECIPES / "stripe-invoice-paid-to-quickbooks-journal.json").read_text())
# the cases mutate the journal entry step alone: the customer step before it is left out, and
# the entry names a customer by id instead of that step's output
BASE["steps"] = [step for step in BASE["steps"] if step["id"] == "entry"]
BASE["steps"][0]["input"]["Lines"][1]["Entity"] = {"Type": "Customer", "EntityRef": "1"}
STEP = "/steps/0"
LINE0 = "/steps/0/input/Lines/0"


def mutate(fn):
    def build():
        recipe = copy.deepcopy(BASE)
        fn(recipe)
        return recipe
    return build


def setp(path, value):
    def fn(recipe):
        node = recipe
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return fn


def delp(path):
    def fn(recipe):
        node = recipe
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return fn


def line0(key, value):
    return setp(["steps", 0, "input", "Lines", 0, key], value)


def second_step(recipe):
    step = copy.deepcopy(recipe["steps"][0])
    step["id"] = "second"
    recipe["steps"].append(step)


def refers_to_later(recipe):
    second_step(recipe)
    recipe["steps"][0]["input"]["PrivateNote"] = {"$path": "$.steps.second.id"}


def duplicate_step(recipe):
    second_step(recipe)
    recipe["steps"][1]["id"] = "entry"


CASES = [
    # (name, recipe builder or raw text, pointer, words in message)
    ("bad json", '{\n  "id": "x",\n  "version": 1,,\n}', "/", "line 3, column"),
    ("not an object", "[1, 2]", "/", "is not of type 'object'"),
    ("missing id", mutate(delp(["id"])), "/", "missing required property 'id'"),
    ("bad id", mutate(setp(["id"], "My Recipe")), "/id", "does not match"),
    ("version zero", mutate(setp(["version"], 0)), "/version", "less than the minimum of 1"),
    ("version string", mutate(setp(["version"], "1")), "/version", "is not of type 'integer'"),
    ("short description", mutate(setp(["description"], "todo")), "/description", "is too short"),
    ("unknown top-level key", mutate(setp(["stepz"], [])), "/stepz", 'did you mean "steps"'),
    ("missing trigger", mutate(delp(["trigger"])), "/", "missing required property 'trigger'"),
    ("unknown trigger", mutate(setp(["trigger", "event"], "stripe.invoice.payed")), "/trigger/event",
     'did you mean "stripe.invoice.paid"'),
    ("unknown trigger connection", mutate(setp(["trigger", "connection"], "strip")), "/trigger/connection",
     'unknown connection \'strip\''),
    ("trigger on wrong connector", mutate(setp(["trigger", "connection"], "quickbooks")), "/trigger/connection",
     "needs a 'stripe' one"),
    ("filter unknown test", mutate(setp(["trigger", "filter"], {"path": "$.event.id", "gtt": 0})),
     "/trigger/filter/gtt", 'did you mean "gt"'),
    ("filter path does not parse", mutate(setp(["trigger", "filter"], {"path": "$.event[?(", "gt": 0})),
     "/trigger/filter/path", "does not parse"),
    ("filter reads a step", mutate(setp(["trigger", "filter"], {"path": "$.steps.entry.id", "exists": True})),
     "/trigger/filter/path", "unknown step 'entry'"),
    ("filter with two tests", mutate(setp(["trigger", "filter"], {"path": "$.event.id", "eq": 1, "ne": 2})),
     "/trigger/filter", "exactly one test"),
    ("no steps", mutate(setp(["steps"], [])), "/steps", "should be non-empty"),
    ("unknown action", mutate(setp(["steps", 0, "action"], "quickbooks.create_journal_entri")), f"{STEP}/action",
     'did you mean "quickbooks.create_journal_entry"'),
    ("unknown step connection", mutate(setp(["steps", 0, "connection"], "quickbook")), f"{STEP}/connection",
     'did you mean "quickbooks"'),
    ("action on wrong connector", mutate(setp(["steps", 0, "connection"], "stripe")), f"{STEP}/connection",
     "needs a 'quickbooks' one"),
    ("step without input", mutate(delp(["steps", 0, "input"])), STEP, "missing required property 'input'"),
    ("bad step id", mutate(setp(["steps", 0, "id"], "Entry!")), f"{STEP}/id", "does not match"),
    ("duplicate step id", mutate(duplicate_step), "/steps/1/id", "already used by /steps/0"),
    ("unknown transform", mutate(line0("Amount", {"$path": "$.event.data.object.amount_paid", "$as": "stripe.mony",
                                                  "currency": "usd"})),
     f"{LINE0}/Amount/$as", 'did you mean "stripe.money"'),
    ("transform without its parameter", mutate(line0("Amount", {"$path": "$.event.data.object.amount_paid",
                                                                "$as": "stripe.money"})),
     f"{LINE0}/Amount", "needs the parameter 'currency'"),
    ("misspelled transform parameter", mutate(line0("Amount", {"$path": "$.event.data.object.amount_paid",
                                                               "$as": "stripe.money", "currency": "usd",
                                                               "curency": "usd"})),
     f"{LINE0}/Amount/curency", 'did you mean "currency"'),
    ("unknown lookup table", mutate(line0("AccountRef", {"$lookup": "acounts", "key": "undeposited_funds"})),
     f"{LINE0}/AccountRef/$lookup", 'did you mean "accounts"'),
    ("unknown lookup key", mutate(line0("AccountRef", {"$lookup": "accounts", "key": "undeposited_fund"})),
     f"{LINE0}/AccountRef/key", 'did you mean "undeposited_funds"'),
    ("jsonpath does not parse", mutate(setp(["steps", 0, "input", "TxnDate"], {"$path": "$.event.data[?(@.x >"})),
     f"{STEP}/input/TxnDate/$path", "does not parse"),
    ("path outside the document", mutate(setp(["steps", 0, "input", "TxnDate"], {"$path": "$.evnt.created"})),
     f"{STEP}/input/TxnDate/$path", 'did you mean "event"'),
    ("item outside each", mutate(setp(["steps", 0, "input", "TxnDate"], {"$path": "$.item.created"})),
     f"{STEP}/input/TxnDate/$path", "only inside"),
    ("unknown operator", mutate(setp(["steps", 0, "input", "TxnDate"], {"$pth": "$.event.created"})),
     f"{STEP}/input/TxnDate/$pth", 'did you mean "$path"'),
    ("each without map", mutate(setp(["steps", 0, "input", "Lines"], {"$each": "$.event.data.object.lines.data[*]"})),
     f"{STEP}/input/Lines", 'needs a "map"'),
    ("literal breaks enum", mutate(line0("PostingType", "Debet")), f"{LINE0}/PostingType", "'Debet' is not one of"),
    ("literal unknown input", mutate(setp(["steps", 0, "input", "Memo"], "hi")), f"{STEP}/input/Memo",
     "has no input 'Memo'"),
    ("literal negative amount", mutate(line0("Amount", "-5.00")), f"{LINE0}/Amount", "does not match"),
    ("literal bad currency", mutate(setp(["steps", 0, "input", "CurrencyRef"], "US Dollars")),
     f"{STEP}/input/CurrencyRef", "does not match"),
    ("literal date", mutate(setp(["steps", 0, "input", "TxnDate"], "25/11/2026")), f"{STEP}/input/TxnDate",
     "does not match"),
    ("neither lines nor shorthand", mutate(delp(["steps", 0, "input", "Lines"])), f"{STEP}/input",
     "required property"),
    ("reference to a later step", mutate(refers_to_later), f"{STEP}/input/PrivateNote/$path", "runs later"),
    ("reference to an unknown step", mutate(setp(["steps", 0, "input", "PrivateNote"], {"$path": "$.steps.nope.id"})),
     f"{STEP}/input/PrivateNote/$path", "unknown step 'nope'"),
    ("unknown time zone", mutate(setp(["timezone"], "America/Nowhere")), "/timezone", "IANA"),
    ("lookup table not an object", mutate(setp(["lookups", "accounts"], ["4", "84"])), "/lookups/accounts",
     "is not of type 'object'"),
    ("when with unknown test", mutate(setp(["steps", 0, "when"], {"path": "$.event.id", "equals": "x"})),
     f"{STEP}/when/equals", "unknown test"),
    # JSON Schema patterns are ECMAScript, where "$" is the end: no name ends in a newline
    ("recipe id with a trailing newline", mutate(setp(["id"], "paid-invoices\n")), "/id",
     "'paid-invoices\\n' does not match"),
    ("step id with a trailing newline", mutate(setp(["steps", 0, "id"], "entry\n")), f"{STEP}/id",
     "'entry\\n' does not match"),
    ("lookup table name with a trailing newline",
     mutate(lambda r: r["lookups"].__setitem__("accounts\n", r["lookups"].pop("accounts"))), "/lookups",
     "'accounts\\n' does not match"),
]


@pytest.mark.parametrize("name, build, pointer, words", CASES, ids=[c[0] for c in CASES])
def test_broken_recipe(tmp_path, run_cli, name, build, pointer, words):
    path = tmp_path / "broken.json"
    path.write_text(build if isinstance(build, str) else json.dumps(build()))
    code, out, err = run_cli("validate", str(path))
    assert code == 1
    assert "Traceback" not in out + err
    lines = out.strip().splitlines()
    assert lines, err
    for line in lines:
        assert line.startswith(f"{path}:/"), line
    wanted = f"{path}:{pointer}: "
    assert any(line.startswith(wanted) and words in line for line in lines), "\n".join(lines)


def test_at_least_thirty_distinct_cases():
    assert len({c[0] for c in CASES}) >= 30
    assert len({(c[2], c[3]) for c in CASES}) == len(CASES)


def test_every_problem_not_just_the_first(tmp_path, run_cli):
    recipe = copy.deepcopy(BASE)
    recipe["version"] = 0
    recipe["trigger"]["event"] = "stripe.invoice.payed"
    recipe["steps"][0]["input"]["Lines"][0]["PostingType"] = "Debet"
    recipe["steps"][0]["input"]["TxnDate"] = {"$path": "$.evnt.x"}
    path = tmp_path / "many.json"
    path.write_text(json.dumps(recipe))
    code, out, _ = run_cli("validate", str(path))
    assert code == 1
    pointers = {line.split(":")[1] for line in out.splitlines()}
    assert {"/version", "/trigger/event", f"{LINE0}/PostingType", f"{STEP}/input/TxnDate/$path"} <= pointers


def test_duplicate_recipe_ids_across_files(tmp_path, run_cli):
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(BASE))
    code, out, _ = run_cli("validate", str(tmp_path))
    assert code == 1
    assert out.strip() == f"{tmp_path / 'b.json'}:/id: recipe id '{BASE['id']}' is also used by " \
                          f"{tmp_path / 'a.json'}; recipe ids must be unique"


def test_missing_path_and_empty_directory(tmp_path, run_cli):
    code, out, _ = run_cli("validate", str(tmp_path / "nope.json"), str(tmp_path))
    assert code == 1
    assert f"{tmp_path / 'nope.json'}:/: no such file or directory" in out
    assert f"{tmp_path}:/: directory holds no *.json recipe" in out


def test_valid_recipes_exit_zero(run_cli):
    code, out, err = run_cli("validate", str(RECIPES))
    assert (code, out) == (0, ""), out
    assert "recipe(s) valid" in err


@pytest.mark.parametrize("text, pointer, words", [
    ("[" * 100_000 + "]" * 100_000, "/", "not valid JSON at line 1, column 101: objects and arrays are nested "
                                         "more than 100 deep; nest less deeply there"),
    (json.dumps({**BASE, "lookups": {"deep": {"k": json.loads("[" * 80 + "]" * 80)}}}),
     "/lookups/deep/k/0/0/0", "nest more than 64 deep here"),
])
def test_nesting_deeper_than_any_recipe_needs(tmp_path, run_cli, text, pointer, words):
    path = tmp_path / "deep.json"
    path.write_text(text)
    code, out, err = run_cli("validate", str(path))
    assert code == 1 and "Traceback" not in out + err
    [line] = out.splitlines()
    assert line.startswith(f"{path}:{pointer}") and words in line
