"""Swedish names: folding, sound keys, nicknames and the name comparisons on real examples."""

import pytest
from _featurecases import compare_one

from passerlink.features import GIVEN, MISSING, fold_name, name_groups, phonetic_key


@pytest.mark.parametrize("variants", [("Åsa", "Asa", "Aasa", "ÅSA"), ("Björk", "Bjoerk", "Bjork"),
                                      ("Sjöström", "Sjoestroem", "SJOSTROM"), ("Ängel", "Aengel")])
def test_folding_makes_keyboard_variants_equal(variants):
    assert len({fold_name(v) for v in variants}) == 1


def test_double_family_names_fold_to_the_same_tokens():
    assert fold_name("Andersson-Wahlqvist") == fold_name("Andersson  Wahlqvist") == "andersson wahlqvist"
    assert fold_name("  Ann-Sofie ") == "ann sofie"


@pytest.mark.parametrize("a,b", [("Carl", "Karl"), ("Philip", "Filip"), ("Thomas", "Tomas"),
                                 ("Mattias", "Matthias"), ("Christina", "Kristina"), ("Nilsson", "Nilson"),
                                 ("Wahlqvist", "Wahlquist"), ("Eriksson", "Ericsson"), ("Schöberg", "Sjöberg")])
def test_spelling_variants_share_a_sound_key(a, b):
    assert phonetic_key(fold_name(a)) == phonetic_key(fold_name(b))


@pytest.mark.parametrize("a,b", [("Karin", "Koren"), ("Lena", "Lina"), ("Anna", "Hanna")])
def test_the_sound_key_keeps_different_names_apart(a, b):
    assert phonetic_key(fold_name(a)) != phonetic_key(fold_name(b))


@pytest.mark.parametrize("nick,formal", [("Lasse", "Lars"), ("Kalle", "Karl"), ("Kalle", "Carl"), ("Micke", "Mikael"),
                                         ("Janne", "Jan"), ("Pelle", "Per"), ("Olle", "Olof"), ("Bosse", "Bo"),
                                         ("Kicki", "Kristina"), ("Stina", "Kristina"), ("Lotta", "Charlotte"),
                                         ("Maggan", "Margareta"), ("Nisse", "Nils")])
def test_nicknames_share_a_group(nick, formal):
    assert name_groups(fold_name(nick)) & name_groups(fold_name(formal))


@pytest.mark.parametrize("a,b", [("Anna", "Annika"), ("Ebba", "Ebbe"), ("Lars", "Per"), ("Emma", "Anna")])
def test_different_names_share_no_group(a, b):
    assert not (name_groups(fold_name(a)) & name_groups(fold_name(b)))


def test_nickname_is_a_variant_level_below_equal():
    assert compare_one({"given_names": "Lasse"}, {"given_names": "Lars"})["given_name"] == "variant"
    assert compare_one({"given_names": "Lars"}, {"given_names": "Lars"})["given_name"] == "exact"
    assert compare_one({"given_names": "Lars"}, {"given_names": "Per"})["given_name"] == "different"


@pytest.mark.parametrize("a,b", [("Carl", "Karl"), ("Philip", "Filip"), ("Thomas", "Tomas"), ("Mattias", "Matthias"),
                                 ("Åsa", "Aasa")])
def test_spelling_variants_of_given_names(a, b):
    assert compare_one({"given_names": a}, {"given_names": b})["given_name"] in ("exact", "variant")


def test_call_name_against_any_given_name():
    # HR: all given names, call name separate; M5: only the name in use
    row = compare_one({"given_names": "Anna Maria Kristina", "call_name": "Maria"}, {"given_names": "Maria"})
    assert row["given_name"] == "exact"
    # no call name known: the second given name in use is still recognised
    row = compare_one({"given_names": "Anna Maria Kristina"}, {"given_names": "Maria"})
    assert row["given_name"] == "equal_to_other"
    row = compare_one({"given_names": "Anna Maria Kristina"}, {"given_names": "Kicki"})
    assert row["given_name"] == "variant_of_other"


def test_one_part_of_a_double_family_name():
    row = compare_one({"family_name": "Andersson-Wahlqvist"}, {"family_name": "Wahlqvist"})
    assert row["family_name"] == "part_in_common"
    assert compare_one({"family_name": "Björk"}, {"family_name": "Bjoerk"})["family_name"] == "exact"
    assert compare_one({"family_name": "Lindqvist"}, {"family_name": "Lindkvist"})["family_name"] == "same_sound"
    assert compare_one({"family_name": "Johansson"}, {"family_name": "Johanson"})["family_name"] in ("exact", "same_sound", "one_typo")
    assert compare_one({"family_name": "Berg"}, {"family_name": "Lund"})["family_name"] == "different"


def test_swapped_given_and_family_name():
    row = compare_one({"given_names": "Svensson", "family_name": "Anna"},
                      {"given_names": "Anna", "family_name": "Svensson"})
    assert row["swapped_names"] == "swapped"
    assert row["given_name"] == "exact" and row["family_name"] == "exact"
    row = compare_one({"given_names": "Anna", "family_name": "Svensson"},
                      {"given_names": "Anna", "family_name": "Svensson"})
    assert row["swapped_names"] == "in_their_fields"


def test_a_rare_shared_family_name_weighs_more_than_a_common_one():
    crowd = [{"given_names": f"P{i}", "family_name": "Andersson"} for i in range(30)]
    common = compare_one({"given_names": "Eva", "family_name": "Andersson"},
                         {"given_names": "Eva", "family_name": "Andersson"}, *crowd)
    rare = compare_one({"given_names": "Eva", "family_name": "Wahlqvist"},
                       {"given_names": "Eva", "family_name": "Wahlqvist"}, *crowd)
    assert rare["family_tf"] > common["family_tf"] + 1


def test_missing_names_have_their_own_levels():
    row = compare_one({"family_name": "Berg"}, {"given_names": "Eva", "family_name": "Berg"}, comparisons=[GIVEN])
    assert row["given_name"] == "missing_left"
    row = compare_one({"family_name": "Berg"}, {"family_name": "Berg"}, comparisons=[GIVEN])
    assert row["given_name"] == "missing"
    assert GIVEN.level("missing").null and GIVEN.labels[MISSING] == "missing"
