"""Write tests/data/name_pairs.csv: labelled pairs of names, same person (1) or not (0).

Run: `python bench/name_pairs.py` (deterministic; the CSV is committed).

Labels come from construction, never from the matcher: every spelling below is listed
under one name (its Persian form first, then Latin spellings found in lists of Iranian
names: passports, the 1988 victims' lists of human-rights groups, press romanisations,
including the Arabic-style ones such as Muhammad, Husayn, Fatima). A pair is "same" when
both sides spell the same first name and the same surname, whatever the script, spelling,
Arabic keyboard letters (ي ك), hamza seat (ئ), zero-width non-joiner or word order
(surname first, as Iranian lists often write it). Everything else is "different": the hard
ones share one name and differ in the other by a name that looks alike (Ahmadi/Ahmadian:
a different family name, so a different person for a link suggestion; Rezaei/Rezvani,
Hosseini/Hassani, Hassan/Hossein, Mohammad/Mahmoud...).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "name_pairs.csv"

FIRST = {
    "mohammad": ("محمد", "Mohammad", "Muhammad", "Mohamad", "Mohammed", "Mohamed"),
    "ali": ("علی", "Ali", "Aly"),
    "hossein": ("حسین", "Hossein", "Hosein", "Hussein", "Husayn", "Hosseyn", "Hussain"),
    "hassan": ("حسن", "Hassan", "Hasan"),
    "reza": ("رضا", "Reza"),
    "mahdi": ("مهدی", "Mahdi", "Mehdi"),
    "ahmad": ("احمد", "Ahmad", "Ahmed"),
    "mahmoud": ("محمود", "Mahmoud", "Mahmood", "Mahmud"),
    "mostafa": ("مصطفی", "Mostafa", "Mustafa", "Moustafa"),
    "morteza": ("مرتضی", "Morteza", "Murtaza", "Mortaza"),
    "jafar": ("جعفر", "Jafar", "Jaafar", "Ja'far"),
    "saeed": ("سعید", "Saeed", "Saeid", "Said", "Saied"),
    "masoud": ("مسعود", "Masoud", "Massoud", "Masood", "Mas'ud"),
    "yousef": ("یوسف", "Yousef", "Yusef", "Yousof", "Yusuf"),
    "ebrahim": ("ابراهیم", "Ebrahim", "Ibrahim", "Ebraheem"),
    "esmail": ("اسماعیل", "Esmail", "Esmaeil", "Ismail", "Esmaeel"),
    "fatemeh": ("فاطمه", "Fatemeh", "Fateme", "Fatemah", "Fatima"),
    "zahra": ("زهرا", "Zahra"),
    "maryam": ("مریم", "Maryam", "Mariam"),
    "masoumeh": ("معصومه", "Masoumeh", "Masoume", "Massoumeh", "Masumeh"),
    "khosrow": ("خسرو", "Khosrow", "Khosro", "Khosrau"),
    "behrouz": ("بهروز", "Behrouz", "Behrooz", "Behruz"),
    "davoud": ("داوود", "Davoud", "Davood", "Davud", "Dawood", "Daoud"),
    "abdollah": ("عبدالله", "Abdollah", "Abdullah", "Abdolah"),
    "rouhollah": ("روح‌الله", "Rouhollah", "Ruhollah", "Rohollah"),
    "nooreddin": ("نورالدین", "Nooreddin", "Nouraddin", "Noureddin", "Nureddin"),
    "gholamreza": ("غلامرضا", "Gholamreza", "Gholam Reza", "Gholam-Reza", "Qolamreza"),
    "ghasem": ("قاسم", "Ghasem", "Qasem", "Ghassem"),
    "sadegh": ("صادق", "Sadegh", "Sadeq", "Sadiq"),
    "kazem": ("کاظم", "Kazem", "Kazim"),
    "mansour": ("منصور", "Mansour", "Mansoor", "Mansur"),
    "parviz": ("پرویز", "Parviz", "Parwiz"),
    "houshang": ("هوشنگ", "Houshang", "Hushang", "Hooshang"),
    "bijan": ("بیژن", "Bijan", "Bizhan"),
    "nasrin": ("نسرین", "Nasrin", "Nasreen"),
    "tahereh": ("طاهره", "Tahereh", "Tahere", "Taherah"),
    "soraya": ("ثریا", "Soraya", "Sorayya"),
    "mohammadreza": ("محمدرضا", "Mohammadreza", "Mohammad Reza", "Mohammad-Reza"),
    "alireza": ("علیرضا", "Alireza", "Ali Reza", "Ali-Reza"),
    "majid": ("مجید", "Majid", "Madjid"),
    "hamid": ("حمید", "Hamid"),
    "vahid": ("وحید", "Vahid", "Wahid"),
    "javad": ("جواد", "Javad", "Jawad"),
    "yaghoub": ("یعقوب", "Yaghoub", "Yaqub", "Yaghoob", "Yaqoob"),
    "manouchehr": ("منوچهر", "Manouchehr", "Manuchehr", "Manoochehr"),
    "bahman": ("بهمن", "Bahman"),
    "shirin": ("شیرین", "Shirin", "Shireen"),
}
LAST = {
    "ahmadi": ("احمدی", "Ahmadi"),
    "ahmadian": ("احمدیان", "Ahmadian"),
    "mohammadi": ("محمدی", "Mohammadi", "Mohamadi", "Muhammadi"),
    "rezaei": ("رضایی", "Rezaei", "Rezaie", "Rezai", "Rezayi", "Rezaee"),
    "rezvani": ("رضوانی", "Rezvani", "Rezwani"),
    "razi": ("رازی", "Razi"),
    "hosseini": ("حسینی", "Hosseini", "Hoseini", "Husseini", "Hosseyni"),
    "hassani": ("حسنی", "Hassani", "Hasani"),
    "hassanzadeh": ("حسن‌زاده", "Hassanzadeh", "Hasanzadeh", "Hassan-Zadeh"),
    "hosseinzadeh": ("حسین‌زاده", "Hosseinzadeh", "Hoseinzadeh"),
    "karimi": ("کریمی", "Karimi"),
    "kazemi": ("کاظمی", "Kazemi"),
    "rahimi": ("رحیمی", "Rahimi"),
    "rahmani": ("رحمانی", "Rahmani"),
    "mousavi": ("موسوی", "Mousavi", "Musavi", "Moosavi"),
    "hashemi": ("هاشمی", "Hashemi"),
    "hashemian": ("هاشمیان", "Hashemian"),
    "jafari": ("جعفری", "Jafari", "Jaafari", "Ja'fari"),
    "jafarian": ("جعفریان", "Jafarian"),
    "sadeghi": ("صادقی", "Sadeghi", "Sadeqi"),
    "sadri": ("صدری", "Sadri"),
    "ghasemi": ("قاسمی", "Ghasemi", "Qasemi"),
    "nouri": ("نوری", "Nouri", "Noori", "Nuri"),
    "norouzi": ("نوروزی", "Norouzi", "Nowruzi", "Nowrouzi"),
    "moradi": ("مرادی", "Moradi"),
    "abbasi": ("عباسی", "Abbasi"),
    "amini": ("امینی", "Amini"),
    "amiri": ("امیری", "Amiri"),
    "taheri": ("طاهری", "Taheri"),
    "zaheri": ("ظاهری", "Zaheri"),
    "yazdani": ("یزدانی", "Yazdani"),
    "yazdi": ("یزدی", "Yazdi"),
    "tehrani": ("تهرانی", "Tehrani"),
    "kiani": ("کیانی", "Kiani", "Kiyani"),
    "soltani": ("سلطانی", "Soltani"),
    "najafi": ("نجفی", "Najafi"),
    "zarei": ("زارعی", "Zarei", "Zareie"),
    "bagheri": ("باقری", "Bagheri", "Baqeri"),
    "mahdavi": ("مهدوی", "Mahdavi"),
    "mahdizadeh": ("مهدی‌زاده", "Mahdizadeh", "Mehdizadeh"),
    "akbari": ("اکبری", "Akbari"),
    "salehi": ("صالحی", "Salehi"),
}
# Names that look alike but are different names.
LOOKALIKE_LAST = [
    ("ahmadi", "ahmadian"), ("rezaei", "rezvani"), ("rezaei", "razi"), ("hosseini", "hassani"),
    ("karimi", "kazemi"), ("rahimi", "rahmani"), ("hashemi", "hashemian"),
    ("jafari", "jafarian"), ("sadeghi", "sadri"), ("mohammadi", "ahmadi"),
    ("hassanzadeh", "hosseinzadeh"), ("taheri", "zaheri"), ("yazdani", "yazdi"),
    ("nouri", "norouzi"), ("amini", "amiri"), ("mahdavi", "mahdizadeh"), ("ghasemi", "kazemi"),
]
LOOKALIKE_FIRST = [
    ("hassan", "hossein"), ("mohammad", "mahmoud"), ("mohammad", "ahmad"), ("ali", "alireza"),
    ("majid", "hamid"), ("saeed", "masoud"), ("maryam", "masoumeh"), ("behrouz", "bahman"),
    ("javad", "jafar"), ("mahdi", "ahmad"), ("kazem", "ghasem"), ("vahid", "hamid"),
]
PEOPLE = [
    ("ali", "rezaei"), ("mohammad", "ahmadi"), ("hossein", "hosseini"), ("fatemeh", "karimi"),
    ("mahmoud", "rahimi"), ("maryam", "mousavi"), ("hassan", "jafari"), ("mostafa", "sadeghi"),
    ("morteza", "mohammadi"), ("saeed", "hashemi"), ("masoud", "nouri"), ("yousef", "kazemi"),
    ("ebrahim", "norouzi"), ("esmail", "zarei"), ("zahra", "hassani"), ("masoumeh", "taheri"),
    ("khosrow", "tehrani"), ("behrouz", "amini"), ("davoud", "bagheri"), ("abdollah", "ghasemi"),
    ("rouhollah", "mahdavi"), ("nooreddin", "abbasi"), ("gholamreza", "soltani"),
    ("ghasem", "najafi"), ("sadegh", "yazdani"), ("mansour", "kiani"), ("parviz", "moradi"),
    ("houshang", "salehi"), ("bijan", "akbari"), ("nasrin", "rezvani"), ("tahereh", "amiri"),
    ("soraya", "hosseinzadeh"), ("mohammadreza", "rezaei"), ("alireza", "hassanzadeh"),
    ("majid", "mahdizadeh"), ("vahid", "jafarian"), ("javad", "ahmadian"), ("yaghoub", "yazdi"),
    ("manouchehr", "hashemian"), ("shirin", "sadri"), ("mahdi", "zaheri"), ("jafar", "razi"),
    ("reza", "rahmani"), ("ahmad", "mousavi"), ("kazem", "hosseini"), ("hamid", "karimi"),
    ("bahman", "nouri"), ("mohammad", "rezaei"),
]


def arabic_keyboard(text: str) -> str:
    """Write Persian ی and ک as Arabic ي and ك, as an Arabic keyboard does."""
    return text.replace("ی", "ي").replace("ک", "ك")


def persian_forms(first: str, last: str) -> list[str]:
    """Return Persian spellings of one person: plain, Arabic letters, hamza, no ZWNJ, reversed."""
    plain = f"{FIRST[first][0]} {LAST[last][0]}"
    forms = [plain, arabic_keyboard(plain), f"{LAST[last][0]} {FIRST[first][0]}"]
    if "یی" in plain:
        forms.append(plain.replace("یی", "ئی"))
    if "\u200c" in plain:
        forms.append(plain.replace("\u200c", ""))
    return forms


def latin_forms(first: str, last: str) -> list[str]:
    """Return every Latin spelling of one person, first name first."""
    return [f"{a} {b}" for a in FIRST[first][1:] for b in LAST[last][1:]]


def same_pairs(index: int, first: str, last: str) -> list[tuple[str, str]]:
    """Pair spellings of one person: across scripts, within Latin, within Persian."""
    persian, latin = persian_forms(first, last), latin_forms(first, last)
    pick = lambda forms, n: forms[(index + n) % len(forms)]  # noqa: E731
    pairs = [(pick(persian, 0), pick(latin, 0)), (pick(latin, 1), pick(persian, 1))]
    if len(latin) > 1:
        swapped = " ".join(reversed(pick(latin, 3).rsplit(" ", 1)))  # surname first
        pairs += [(pick(latin, 2), pick(latin, 5)), (swapped, pick(persian, 2))]
    pairs.append((pick(persian, 2), pick(persian, 3)))
    return [(a, b) for a, b in pairs if a != b]


def different_pairs() -> list[tuple[str, str]]:
    """Pair different people: look-alike surnames or first names, then unrelated names."""
    pairs, n = [], 0
    for (one, other), first in zip(LOOKALIKE_LAST, itertools.cycle(FIRST), strict=False):
        for script in range(3):
            pairs.append(_render(first, one, first, other, n + script))
        n += 1
    for (one, other), last in zip(LOOKALIKE_FIRST, itertools.cycle(LAST), strict=False):
        for script in range(3):
            pairs.append(_render(one, last, other, last, n + script))
        n += 1
    for index, ((f1, l1), (f2, l2)) in enumerate(zip(PEOPLE, PEOPLE[7:] + PEOPLE[:7],
                                                     strict=True)):
        if (f1, l1) != (f2, l2):
            pairs.append(_render(f1, l1, f2, l2, index))
    return pairs


def _render(f1: str, l1: str, f2: str, l2: str, n: int) -> tuple[str, str]:
    """Write two people Persian-Latin, Latin-Latin or Persian-Persian, by n modulo 3."""
    one, other = latin_forms(f1, l1), latin_forms(f2, l2)
    if n % 3 == 0:
        return FIRST[f1][0] + " " + LAST[l1][0], other[n % len(other)]
    if n % 3 == 1:
        return one[n % len(one)], other[(n + 1) % len(other)]
    return persian_forms(f1, l1)[n % 2], persian_forms(f2, l2)[(n + 1) % 2]


def check_labels() -> None:
    """Refuse a spelling listed under two names: its pairs' labels would be wrong."""
    for table in (FIRST, LAST):
        seen: dict[str, str] = {}
        for name, spellings in table.items():
            for spelling in spellings:
                assert seen.setdefault(spelling.casefold(), name) == name, spelling


def main() -> None:
    """Write the CSV."""
    check_labels()
    rows = [(a, b, 1) for i, person in enumerate(PEOPLE) for a, b in same_pairs(i, *person)]
    rows += [(a, b, 0) for a, b in different_pairs()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("a", "b", "same"))
        writer.writerows(rows)
    same = sum(row[2] for row in rows)
    print(f"{len(rows)} pairs ({same} same person, {len(rows) - same} different) in {OUT}")


if __name__ == "__main__":
    main()
