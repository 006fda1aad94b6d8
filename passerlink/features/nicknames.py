"""Swedish given names: nicknames and spelling variants that mean the same person.

"Lasse" in M5 and "Lars" in the HR register is one person; so are "Kicki" and "Kristina". Each
group below is one formal name with the forms people are registered or called by. A nickname
may belong to several groups (Pelle: Per and Peter), which is why a token maps to a *set* of
group keys. Spelling variants that the phonetic key already unifies (Carl/Karl, Philip/Filip,
Thomas/Tomas) need no entry, but listing them does no harm.
"""

from __future__ import annotations

from functools import lru_cache

from passerlink.features.text import fold_name, phonetic_key

__all__ = ["NAME_GROUPS", "name_groups"]

#: formal name -> nicknames and spelling variants (as people write them)
NAME_GROUPS: dict[str, list[str]] = {
    # men
    "Lars": ["Lasse", "Lars", "Lasse-Erik"],
    "Karl": ["Kalle", "Calle", "Carl", "Karl", "Kaj"],
    "Mikael": ["Micke", "Mikke", "Michael", "Mickel", "Mikael", "Michel", "Mike"],
    "Jan": ["Janne", "Jan", "Jani", "Jannis"],
    "Johan": ["Janne", "Jojje", "Johan", "Johann", "John", "Jon", "Jocke"],
    "Joakim": ["Jocke", "Joachim", "Joakim", "Jokke"],
    "Per": ["Pelle", "Per", "Pär", "Peer", "Perra"],
    "Peter": ["Pelle", "Peter", "Petter", "Peder", "Pete", "Pedro"],
    "Olof": ["Olle", "Olof", "Olov", "Ola", "Olav", "Oluf"],
    "Bo": ["Bosse", "Bo", "Boo"],
    "Nils": ["Nisse", "Nils", "Nille", "Nicke"],
    "Niklas": ["Nicke", "Niklas", "Nicklas", "Niclas", "Nicolas", "Nikolaus", "Klas"],
    "Klas": ["Klas", "Claes", "Clas", "Klaes", "Claus", "Klaus"],
    "Anders": ["Anders", "Ante", "Andy"],
    "Magnus": ["Magnus", "Mange", "Manne"],
    "Tomas": ["Tomas", "Thomas", "Tommy", "Tompa", "Tom", "Tommie"],
    "Stefan": ["Stefan", "Steffe", "Staffan", "Stephan", "Steven", "Stephen"],
    "Robert": ["Robert", "Robban", "Robbie", "Bob"],
    "Fredrik": ["Fredrik", "Fredde", "Freddy", "Fred", "Frederik", "Fredric"],
    "Gustav": ["Gustav", "Gustaf", "Gurra", "Gösta", "Gus", "Gustavo"],
    "Kristoffer": ["Kristoffer", "Christopher", "Christoffer", "Kristofer", "Krille", "Stoffe", "Chris"],
    "Kristian": ["Kristian", "Christian", "Krille", "Chris", "Kristan"],
    "Daniel": ["Daniel", "Danne", "Dan", "Danny"],
    "Erik": ["Erik", "Eric", "Erich", "Errol"],
    "Rickard": ["Rickard", "Richard", "Rikard", "Ricky", "Rick", "Rille"],
    "Ulf": ["Ulf", "Uffe"],
    "Leif": ["Leif", "Leffe"],
    "Rolf": ["Rolf", "Roffe"],
    "Alf": ["Alf", "Affe", "Alfred"],
    "Torbjörn": ["Torbjörn", "Tobbe", "Thorbjörn"],
    "Tobias": ["Tobias", "Tobbe"],
    "Sven": ["Sven", "Svenne"],
    "Göran": ["Göran", "Jöran", "Örjan", "Jörgen", "Georg"],
    "Hans": ["Hans", "Hasse", "Hannes"],
    "Håkan": ["Håkan", "Håkke", "Hakon"],
    "Gunnar": ["Gunnar", "Gunne"],
    "Lennart": ["Lennart", "Lelle", "Lenny", "Lenne"],
    "Mats": ["Mats", "Matte"],
    "Mattias": ["Mattias", "Matthias", "Mathias", "Matias", "Matte", "Matteus"],
    "Alexander": ["Alexander", "Alex", "Sasha", "Sacha", "Alexandre"],
    "Sebastian": ["Sebastian", "Sebbe", "Basse"],
    "Viktor": ["Viktor", "Victor", "Vicke"],
    "Vilhelm": ["Vilhelm", "Wilhelm", "William", "Wille", "Ville", "Willy"],
    "Jonas": ["Jonas", "Jonte"],
    "Jonatan": ["Jonatan", "Jonathan", "Jonte", "Jon"],
    "Henrik": ["Henrik", "Henke", "Henric", "Henrick", "Henry"],
    "Patrik": ["Patrik", "Patrick", "Patte", "Pat"],
    "Rasmus": ["Rasmus", "Rasse"],
    "Oskar": ["Oskar", "Oscar", "Ogge", "Osse"],
    "Isak": ["Isak", "Isaac", "Isac"],
    "Josef": ["Josef", "Joseph", "Josse", "Jojje"],
    "Filip": ["Filip", "Philip", "Phillip", "Fille", "Philipp"],
    "Kent": ["Kent", "Kenta"],
    "Bengt": ["Bengt", "Bengan", "Bengte"],
    "Torsten": ["Torsten", "Totte", "Thorsten"],
    "Kjell": ["Kjell", "Kjelle", "Chell"],
    "Åke": ["Åke", "Åkke"],
    "Ingvar": ["Ingvar", "Ingge", "Ingo"],
    "Emanuel": ["Emanuel", "Emmanuel", "Manne"],
    "Axel": ["Axel", "Axe"],
    "Ludvig": ["Ludvig", "Ludwig", "Lulle", "Lui"],
    "Valter": ["Valter", "Walter", "Walle", "Valle"],
    "Edvin": ["Edvin", "Edwin", "Eddie", "Edde"],
    "Elias": ["Elias", "Elis", "Eli"],
    "Benjamin": ["Benjamin", "Benne", "Ben", "Benny"],
    "Samuel": ["Samuel", "Sam", "Sammy", "Samme"],
    "Adam": ["Adam", "Adde"],
    "Albin": ["Albin", "Abbe"],
    "Melvin": ["Melvin", "Melle"],
    "Hugo": ["Hugo", "Hugge"],
    "Kevin": ["Kevin", "Kevve"],
    "Anton": ["Anton", "Antonio", "Toni", "Tony", "Ante"],
    "Marcus": ["Marcus", "Markus", "Macke", "Mackan"],
    "David": ["David", "Dave", "Davve", "Dawid"],
    # women
    "Kristina": ["Kristina", "Christina", "Kicki", "Stina", "Tina", "Kristin", "Christine", "Kerstin", "Kiki"],
    "Kerstin": ["Kerstin", "Kicki", "Kersti", "Stina"],
    "Charlotte": ["Charlotte", "Charlotta", "Lotta", "Lotte", "Sharlotte", "Lottie"],
    "Margareta": ["Margareta", "Margaretha", "Margret", "Maggan", "Greta", "Märta", "Meta", "Maggie", "Margit", "Marit"],
    "Elisabet": ["Elisabet", "Elisabeth", "Elizabeth", "Lisa", "Lisbet", "Lisbeth", "Betty", "Elsa", "Elise", "Lisette", "Elsie", "Beth"],
    "Katarina": ["Katarina", "Catharina", "Katharina", "Catarina", "Kajsa", "Cajsa", "Karin", "Katja", "Kattis", "Kate", "Cathrine", "Katrin", "Katrine"],
    "Maria": ["Maria", "Mia", "Maja", "Mimmi", "Marie", "Mari", "Mary", "Maija"],
    "Johanna": ["Johanna", "Hanna", "Hannah", "Jossan", "Jonna", "Joanna", "Hanne"],
    "Josefin": ["Josefin", "Josefine", "Josephine", "Jossan", "Fina", "Josefina"],
    "Helena": ["Helena", "Lena", "Helen", "Helene", "Elena", "Hella"],
    "Ingrid": ["Ingrid", "Inga", "Ingela", "Inger"],
    "Cecilia": ["Cecilia", "Cissi", "Sissi", "Cilla", "Celia", "Sessan", "Cecilie"],
    "Birgitta": ["Birgitta", "Bitte", "Gittan", "Britt", "Brita", "Birgit", "Britta", "Gitta", "Berit", "Brigitte"],
    "Ulrika": ["Ulrika", "Ulla", "Rika", "Ulrica"],
    "Susanne": ["Susanne", "Susanna", "Sanna", "Sussie", "Sussi", "Suzanne", "Susan", "Sanne"],
    "Agneta": ["Agneta", "Agnetha", "Nettan", "Agge"],
    "Anneli": ["Anneli", "Annelie"],
    "Linnea": ["Linnea", "Linnéa", "Nea", "Linn", "Linne"],
    "Gabriella": ["Gabriella", "Gabriela", "Gabbi", "Gabi"],
    "Emelie": ["Emelie", "Emilie", "Emilia", "Emmy", "Emmie", "Emely", "Emily"],
    "Emma": ["Emma", "Emmy", "Emmie"],
    "Mikaela": ["Mikaela", "Michaela", "Micaela", "Mickan", "Kaela"],
    "Sofia": ["Sofia", "Sophia", "Sofie", "Sophie", "Fia", "Soffan"],
    "Therese": ["Therese", "Terese", "Teresa", "Theresia", "Tessan", "Tess", "Tessa"],
    "Jessica": ["Jessica", "Jessika", "Jessan", "Jessie", "Jess"],
    "Rebecka": ["Rebecka", "Rebecca", "Rebeca", "Becka", "Becky"],
    "Fredrika": ["Fredrika", "Fredda", "Frida", "Rika"],
    "Gunilla": ["Gunilla", "Gunnel", "Nilla", "Gunn"],
    "Anna": ["Anna", "Annie", "Ann", "Anne"],
    "Eva": ["Eva", "Evy", "Eve"],
    "Kristin": ["Kristin", "Kicki", "Kristine", "Christin", "Stina"],
    "Madeleine": ["Madeleine", "Madelene", "Madelen", "Madde", "Madelaine"],
    "Magdalena": ["Magdalena", "Malin", "Madde", "Magda", "Lena"],
    "Matilda": ["Matilda", "Mathilda", "Tilda", "Tilde", "Matte"],
    "Viktoria": ["Viktoria", "Victoria", "Vicky", "Tora", "Toria"],
    "Alexandra": ["Alexandra", "Alex", "Sandra"],
    "Isabella": ["Isabella", "Isabelle", "Isabel", "Bella", "Isa"],
    "Wilhelmina": ["Wilhelmina", "Vilhelmina", "Wilma", "Vilma", "Mina", "Helmi"],
    "Eleonora": ["Eleonora", "Eleonor", "Ellinor", "Elinor", "Nora", "Leonora"],
    "Astrid": ["Astrid", "Asta", "Assi"],
    "Louise": ["Louise", "Lovisa", "Luise", "Louisa", "Lisa", "Lollo"],
    "Caroline": ["Caroline", "Karolina", "Carolina", "Karoline", "Carro", "Lina", "Karro"],
    "Camilla": ["Camilla", "Kamilla", "Milla", "Cami"],
    "Monika": ["Monika", "Monica", "Moni"],
    "Veronika": ["Veronika", "Veronica", "Nicka"],
    "Åsa": ["Åsa", "Åse", "Asa", "Aasa"],
    "Yvonne": ["Yvonne", "Ivonne", "Yvonn"],
    "Marianne": ["Marianne", "Mariann", "Marianna", "Majan"],
    "Annika": ["Annika", "Anki", "Annica", "Annicka"],
    "Linda": ["Linda", "Lindy"],
    "Jenny": ["Jenny", "Jennifer", "Jenni", "Jennie"],
    "Sara": ["Sara", "Sarah", "Sarri"],
    "Hedvig": ["Hedvig", "Hedda", "Hedwig"],
    "Klara": ["Klara", "Clara", "Claire"],
    "Elin": ["Elin", "Elina"],
}


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    folded = fold_name(name)
    return " ".join(phonetic_key(t) for t in folded.split())


def _build() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for formal, variants in NAME_GROUPS.items():
        group = _key(formal)
        for v in [formal, *variants]:
            for token_key in _key(v).split():  # "Lasse-Erik" contributes "lase" only via its first part
                table.setdefault(token_key, set()).add(group)
                break
    return {k: frozenset(v) for k, v in table.items()}


_TABLE = _build()


def name_groups(token: str) -> frozenset[str]:
    """The group keys one folded given-name token belongs to (its own phonetic key if none)."""
    key = phonetic_key(token)
    return _TABLE.get(key, frozenset((key,)))
