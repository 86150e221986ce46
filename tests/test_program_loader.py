"""Loading program files: the shipped ones load, broken ones say where and why (line, key, FR/EN, fix)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.program import ProgramError, ProgramIssue, demo_program_text, load_program
from hub.program.locator import Locator

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def read(name: str) -> str:
    return (ROOT / "examples" / name).read_text(encoding="utf-8")


def issues(text: str) -> list[ProgramIssue]:
    with pytest.raises(ProgramError) as caught:
        load_program(text, "shop.toml")
    assert caught.value.issues
    return caught.value.issues


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_examples_are_there() -> None:
    assert {p.name for p in EXAMPLES} >= {"bakery.toml", "fashion-boutique.toml", "grocery.toml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_loads(path: Path) -> None:
    prog = load_program(path.read_text(encoding="utf-8"), path.name)
    assert prog.summary()["rules"]
    assert prog.shop_name


def test_demo_program_enrols_everyone_with_points_tiers_bonuses_and_rewards() -> None:
    prog = load_program(demo_program_text())
    assert prog.enrolment_offer(0) == {"offer": True, "missing_cents": 0}
    assert prog.points_per_euro_milli and prog.tiers.real and len(prog.tiers.levels) >= 2
    assert prog.bonuses and 3 <= len(prog.rewards) <= 4
    assert any(r.cost.get("points", 10**9) <= 100 for r in prog.rewards.values())


def test_bakery_is_a_ten_stamp_card_one_a_day() -> None:
    prog = load_program(read("bakery.toml"))
    assert prog.stamps is not None
    assert (prog.stamps.every, prog.stamps.max_per_day) == (10, 1)


def test_grocery_enrols_from_60_euros_and_pays_vouchers_from_the_kitty() -> None:
    prog = load_program(read("grocery.toml"))
    assert prog.cashback_basis_points == 200
    assert prog.enrolment_offer(5999)["offer"] is False
    assert all(set(r.cost) == {"cashback_cents"} for r in prog.rewards.values())


def test_fashion_has_three_tiers_with_multipliers() -> None:
    prog = load_program(read("fashion-boutique.toml"))
    assert [(lv.name, lv.multiplier_percent) for lv in prog.tiers.levels] == [
        ("Bronze", 100),
        ("Argent", 125),
        ("Or", 150),
    ]
    assert prog.bonuses["bonus.birthday"] == {"points": 100}
    assert {r.kind for r in prog.rewards.values()} >= {"percent_off", "experience"}


# --- broken files -----------------------------------------------------------------------------


def test_unknown_key_with_suggestion() -> None:
    text = read("bakery.toml").replace("max_per_day = 1", "max_per_dya = 1")
    (issue,) = issues(text)
    assert issue.line == line_of(text, "max_per_dya")
    assert issue.key == "stamps.max_per_dya"
    assert "clé inconnue" in issue.fr and "unknown key" in issue.en
    assert "max_per_day" in issue.fix_fr and "did you mean “max_per_day”" in issue.fix_en


def test_unknown_top_level_section() -> None:
    text = read("bakery.toml") + '\n[shpo]\nname = "x"\n'
    (issue,) = issues(text)
    assert (issue.line, issue.key) == (line_of(text, "[shpo]"), "shpo")
    assert "“shop”" in issue.fix_en


def test_unknown_key_inside_an_inline_table() -> None:
    text = read("fashion-boutique.toml").replace("cost = { points = 200 }", "cost = { pionts = 200 }")
    (issue,) = issues(text)
    assert (issue.line, issue.key) == (line_of(text, "pionts"), "rewards[0].cost.pionts")
    assert "points" in issue.fix_en


def test_wrong_type() -> None:
    text = read("bakery.toml").replace("every = 10 ", 'every = "10" ')
    (issue,) = issues(text)
    assert (issue.line, issue.key) == (line_of(text, 'every = "10"'), "stamps.every")
    assert "nombre entier" in issue.fr and "whole number" in issue.en
    assert "every = 10" in issue.fix_en


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("per_visit = 1 ", "per_visit = true ", "stamps.per_visit", "boolean"),
        ("per_visit = 1 ", "per_visit = 1.5 ", "stamps.per_visit", "decimal"),
        ("per_visit = 1 ", "per_visit = 0 ", "stamps.per_visit", "at least 1"),
        ('mode = "inactivity"', 'mode = "inactive"', "expiry.mode", '"inactivity"'),
        ('timezone = "Europe/Paris"', 'timezone = "Europe/Pariss"', "shop.timezone", "time zone"),
        ('timezone = "Europe/Paris"', "timezone = 2", "shop.timezone", "text in quotes"),
        ("welcome = { stamps = 1 }", "welcome = { stamps = 0 }", "bonuses.welcome", "grants nothing"),
        ("valid_days = 30 ", "valid_days = 0 ", "vouchers.valid_days", "at least 1"),
    ],
)
def test_schema_errors_point_at_the_key(old: str, new: str, key: str, words: str) -> None:
    text = read("bakery.toml")
    assert old in text
    text = text.replace(old, new, 1)
    (issue,) = issues(text)
    assert issue.key == key
    assert issue.line == line_of(text, new.strip())
    assert words in issue.en + " " + issue.fix_en
    assert issue.fr and issue.fix_fr


def test_decimal_precision_is_refused() -> None:
    text = read("fashion-boutique.toml").replace("multiplier = 1.25", "multiplier = 1.255")
    (issue,) = issues(text)
    assert (issue.key, issue.line) == ("tiers.levels[1].multiplier", line_of(text, "multiplier = 1.255"))
    assert "2 decimal places" in issue.en
    per_euro = issues('[shop]\nname = "x"\n[points]\nper_euro = 0.0001\n')
    assert per_euro[0].key == "points.per_euro" and per_euro[0].line == 4
    assert issues('[shop]\nname = "x"\n[points]\nper_euro = "1"\n')[0].key == "points.per_euro"


def test_stamps_reward_must_exist() -> None:
    text = read("bakery.toml").replace('reward = "cafe-offert"', 'reward = "cafe-oferts"')
    (issue,) = issues(text)
    assert (issue.line, issue.key) == (line_of(text, "cafe-oferts"), "stamps.reward")
    assert "cafe-offert" in issue.fr and "unknown reward" in issue.en


def test_toml_syntax_error_line() -> None:
    text = read("bakery.toml").replace("valid_days = 30", "valid_days = = 30")
    (issue,) = issues(text)
    assert issue.line == line_of(text, "valid_days = = 30")
    assert "syntaxe" in issue.fr and "syntax" in issue.en
    (end,) = issues('[shop]\nname = "x')
    assert end.line == 2


def test_cross_field_errors() -> None:
    fashion = read("fashion-boutique.toml")
    text = fashion.replace("threshold_euros = 1000", "threshold_euros = 200")
    (issue,) = issues(text)
    assert (issue.key, issue.line) == (
        "tiers.levels[2].threshold_euros",
        line_of(text, "threshold_euros = 200"),
    )
    assert "strictly increasing" in issue.en

    text = fashion.replace("threshold_euros = 0 ", "threshold_euros = 10 ")
    (issue,) = issues(text)
    assert issue.key == "tiers.levels[0].threshold_euros" and "must be 0" in issue.en

    text = fashion.replace('min_tier = "Or"', 'min_tier = "Gold"')
    (issue,) = issues(text)
    assert (issue.key, issue.line) == ("rewards[1].min_tier", line_of(text, 'min_tier = "Gold"'))
    assert "“Or”" in issue.en  # suggested through the tier's English label

    grocery = read("grocery.toml")
    text = grocery.replace('id = "bon-10"', 'id = "bon-5"')
    (issue,) = issues(text)
    second = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith('id = "bon-5"')][1]
    assert (issue.key, issue.line) == ("rewards[1].id", second)

    text = grocery.replace("amount_cents = 1000", "percent = 10")
    found = {(i.key, i.line) for i in issues(text)}
    assert ("rewards[1]", line_of(text, 'id = "bon-10"') - 1) in found  # the [[rewards]] header
    assert ("rewards[1].percent", line_of(text, "percent = 10")) in found

    text = grocery.replace("threshold_cents = 6000", "")
    (issue,) = issues(text)
    assert issue.key == "enrolment" and "threshold_cents" in issue.fix_en


def test_more_cross_field_errors() -> None:
    base = '[shop]\nname = "x"\n'
    assert "every and reward" in issues(base + "[stamps]\nevery = 5\n")[0].en
    reward = '[[rewards]]\nid = "c"\nname = "C"\nkind = "percent_off"\npercent = 5\n'
    (issue,) = issues(base + reward)
    assert "missing cost" in issue.en and issue.line == 3
    (issue,) = issues(base + '[stamps]\nevery = 5\nreward = "c"\n' + reward + "cost = { points = 5 }\n")
    assert issue.key == "rewards[0].cost" and "{stamps = 5}" in issue.en
    (issue,) = issues(base + '[expiry]\nmode = "fixed"\n')
    assert issue.key == "expiry" and "months" in issue.en
    (issue,) = issues(base + "[[bonuses.day_multiplier]]\nmultiplier = 2\n")
    assert issue.key == "bonuses.day_multiplier[0]" and issue.line == 3
    (issue,) = issues(base + '[tiers]\nbasis = "visits"\n[[tiers.levels]]\nname = "A"\nthreshold_euros = 0\n')
    assert issue.key == "tiers.levels[0].threshold_euros" and issue.line == 7


def test_missing_sections_and_keys() -> None:
    (issue,) = issues("")
    assert (issue.line, issue.key) == (None, "shop")
    assert "[shop]" in issue.fix_en
    (issue,) = issues('[shop]\ntimezone = "Europe/Paris"\n')
    assert (issue.line, issue.key) == (1, "shop.name")
    assert "name" in issue.fix_fr


def test_several_issues_are_sorted_and_rendered_one_per_line() -> None:
    text = '[shop]\nname = "x"\n[points]\nper_euro = "1"\nrounding = "upwards"\n[stamp]\n'
    with pytest.raises(ProgramError) as caught:
        load_program(text, "shop.toml")
    rendered = str(caught.value).splitlines()
    assert [i.line for i in caught.value.issues] == [4, 5, 6]
    assert len(rendered) == 3
    assert rendered[1].startswith("shop.toml:5: points.rounding: ")
    assert " / " in rendered[1] and "— fix: " in rendered[1]
    assert '"up"' in rendered[1]


# --- the locator --------------------------------------------------------------------------------


def test_locator_tables_arrays_dotted_and_inline() -> None:
    text = "\n".join(
        [
            "# comment",  # 1
            "[shop]",  # 2
            'name = "x"',  # 3
            "[[rewards]]",  # 4
            'id = "a"',  # 5
            "[[rewards]]",  # 6
            'id = "b"',  # 7
            "cost = { points = 5, stamps = 2 }",  # 8
            "name.fr = 'B'",  # 9
            "[rewards.product]",  # 10
            'fr = """',  # 11
            "x = 1",  # 12  (inside a multi-line string)
            '"""',  # 13
            "[tiers]",  # 14
            "[[tiers.levels]]",  # 15
            "threshold = 0",  # 16
        ]
    )
    loc = Locator(text)
    assert loc.line(("shop", "name")) == 3
    assert loc.line(("rewards", 0, "id")) == 5
    assert loc.line(("rewards", 1, "id")) == 7
    assert loc.line(("rewards", 1, "cost", "stamps")) == 8
    assert loc.line(("rewards", 1, "name", "fr")) == 9
    assert loc.line(("rewards", 1, "name")) == 9
    assert loc.line(("rewards", 1, "product")) == 10
    assert loc.line(("rewards", 1, "product", "x")) == 10
    assert loc.line(("rewards", 1, "missing")) == 6
    assert loc.line(("tiers", "levels", 0, "threshold")) == 16
    assert loc.line(("tiers", "levels")) == 15
    assert loc.line(("nowhere",)) is None


# --- robustness ---------------------------------------------------------------------------------

SOURCES = [demo_program_text(), *(p.read_text(encoding="utf-8") for p in EXAMPLES)]
NOISE = ["", "0", "-1", "1.5", '"x"', "true", "[", "]", "{", "}", "=", "[[rewards]]", "[tiers]", "é", "#"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SOURCES),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), st.sampled_from(NOISE))),
)
def test_any_edit_gives_a_program_or_a_program_error(source: str, edits: list[tuple[int, int, str]]) -> None:
    """Whatever a shop owner does to the file, the loader answers with a Program or ProgramError."""
    lines = source.splitlines()
    for index, action, noise in edits:
        at = index % (len(lines) + 1)
        if action == 0 and at < len(lines):
            del lines[at]
        elif action == 1:
            lines.insert(at, noise)
        elif action == 2 and at < len(lines):
            lines[at] = lines[at].split("=")[0] + "= " + noise
        elif at < len(lines):
            lines.insert(at, lines[at])  # a duplicated line
    text = "\n".join(lines)
    try:
        load_program(text)
    except ProgramError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.fr and issue.en and issue.fix_fr and issue.fix_en
            assert issue.line is None or 1 <= issue.line <= len(lines) + 1
        assert len(str(exc).splitlines()) == len(exc.issues)
