"""How the Recipes page marks a recipe's text: a problem at the lines its pointer names (the
nearest part when the text lacks it), a syntax error at the reader's line, the fix split from
the message, and a diff's lines by kind."""

from __future__ import annotations

from ledgerlink.errors import Problem
from ledgerlink_console.recipe_text import diff_lines, highlighted, problem_files, split_fix

TEXT = '{\n  "id": "r",\n  "steps": [\n    {\n      "id": "a",\n      "action": "x.y"\n    }\n  ]\n}\n'


def marked(lines) -> list[int]:
    return [line.number for line in lines if line.marked]


def test_a_pointer_marks_its_members_lines_and_its_note_follows_the_last():
    lines = highlighted(TEXT, [Problem("f", "/steps/0", "step 'a' is wrong; rename it")])
    assert marked(lines) == [4, 5, 6, 7]
    [note] = lines[6].notes
    assert (note.pointer, note.message, note.fix, note.exact) == ("/steps/0", "step 'a' is wrong", "rename it", True)


def test_a_pointer_the_text_lacks_marks_the_nearest_part_and_says_so():
    lines = highlighted(TEXT, [Problem("f", "/steps/0/connection", "missing required property 'connection'")])
    assert marked(lines) == [4, 5, 6, 7]
    [note] = lines[6].notes
    assert not note.exact and note.found == "/steps/0" and note.fix is None


def test_a_problem_of_the_whole_recipe_or_of_its_syntax_marks_one_line():
    assert marked(highlighted(TEXT, [Problem("f", "", "missing required property 'version'")])) == [1]
    broken = '{\n  "id": "r",,\n}'
    lines = highlighted(broken, [Problem("f", "", "not valid JSON at line 2, column 13: x; fix the syntax there")])
    assert marked(lines) == [2] and lines[1].notes[0].fix == "fix the syntax there"
    assert marked(highlighted(broken, [Problem("f", "/id", "m")])) == [1]  # not JSON: no pointer lands


def test_split_fix_keeps_a_message_that_names_no_fix_whole():
    assert split_fix("a; b; c") == ("a; b", "c")
    assert split_fix("no fix here") == ("no fix here", None)
    assert split_fix("; only a tail") == ("; only a tail", None)


def test_problems_are_grouped_by_file_and_a_file_without_text_lists_them():
    files = problem_files([Problem("a.json", "/id", "m1"), Problem("b.json", "", "unreadable; fix it"),
                           Problem("a.json", "/steps", "m2")], {"a.json": TEXT})
    assert [(f["file"], f["count"], bool(f["lines"]), len(f["notes"])) for f in files] == \
        [("a.json", 2, True, 0), ("b.json", 1, False, 1)]
    assert files[1]["notes"][0].fix == "fix it"


def test_a_diffs_lines_are_classed_by_kind():
    diff = "--- r version 1\n+++ r version 2\n@@ -1,3 +1,3 @@\n {\n-  \"version\": 1,\n+  \"version\": 2,\n"
    assert [kind for kind, _ in diff_lines(diff)] == ["file", "file", "hunk", "same", "removed", "added"]
