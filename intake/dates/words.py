"""The words families write dates with: month, season and number names, in three scripts."""

from __future__ import annotations

import re

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "0123456789" * 2)
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه"})
# Only for matching inside this package: hamza and madda forms, the ezafe hamza (ژوئیهٔ),
# Arabic punctuation, apostrophes of transliterations ("Sha'ban"), direction marks.
_FOLD = str.maketrans(
    {"أ": "ا", "إ": "ا", "ٱ": "ا", "آ": "ا", "ئ": "ی", "ؤ": "و", "ء": "", "٫": ".", "،": " ",
     ",": " ", "؛": " ", ";": " "}
    | dict.fromkeys("'’‘ʿʾ`ـ\u0654\u0655")
    | dict.fromkeys("\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    | dict.fromkeys([chr(c) for c in range(0x064B, 0x0653)] + ["\u0670"])
)
SEPARATOR = r"[\s\-\u200c]*"
NOT_LETTER_BEFORE, NOT_LETTER_AFTER = r"(?<![^\W\d_])", r"(?![^\W\d_])"


def normalise_digits(text: str) -> str:
    """Turn Persian ۰-۹ and Arabic-Indic ٠-٩ digits into ASCII digits."""
    return text.translate(_DIGITS)


def normalise_letters(text: str) -> str:
    """Map Arabic ي ى ك ة to Persian ی ی ک ه, keeping zero-width non-joiners."""
    return text.translate(_LETTERS)


def match_key(text: str) -> str:
    """Fold text to the form the reader matches against (never stored)."""
    folded = normalise_letters(normalise_digits(text)).casefold().translate(_FOLD)
    return re.sub(r"\s+", " ", folded).strip()


SOLAR_MONTHS = (
    # Persian, the Dari (Afghan) zodiac name, then Latin transliterations.
    ("فروردین", "حمل", "farvardin", "farvardeen", "farwardin"),
    ("اردیبهشت", "ثور", "ordibehesht", "ordibehest", "ardibehesht", "ordibehasht"),
    ("خرداد", "جوزا", "khordad", "khordaad", "khurdad"),
    ("تیر", "سرطان", "tir", "teer"),
    ("مرداد", "امرداد", "اسد", "mordad", "amordad", "mordaad", "amordaad", "murdad"),
    ("شهریور", "سنبله", "shahrivar", "shahriver", "shahrewar", "shahrivar"),
    ("مهر", "میزان", "mehr", "mihr"),
    ("آبان", "عقرب", "aban", "aaban", "abaan"),
    ("آذر", "قوس", "azar", "aazar", "azer", "adhar"),
    ("دی", "جدی", "dey", "dei"),
    ("بهمن", "دلو", "bahman"),
    ("اسفند", "حوت", "esfand", "isfand", "espand", "esfend"),
)
GREGORIAN_MONTHS = (
    # English, Persian, Arabic (Levantine, then Egyptian and Gulf) names.
    ("january", "jan", "ژانویه", "ژانویه", "ژانویهی", "جنوری", "کانون الثانی", "ینایر"),
    ("february", "feb", "فوریه", "فبروری", "شباط", "فبرایر"),
    ("march", "mar", "مارس", "مارچ", "آذار"),
    ("april", "apr", "آوریل", "آپریل", "اپریل", "نیسان", "ابریل"),
    ("may", "مه", "می", "ماه مه", "ایار", "مایو"),
    ("june", "jun", "ژوئن", "جون", "حزیران", "یونیو", "یونیه"),
    ("july", "jul", "ژوئیه", "ژوییه", "جولای", "جولای", "تموز", "یولیو", "یولیه"),
    ("august", "aug", "اوت", "آگوست", "اگوست", "آگست", "آب", "اغسطس"),
    ("september", "sep", "sept", "سپتامبر", "ایلول", "سبتمبر"),
    ("october", "oct", "اکتبر", "اکتوبر", "تشرین الاول"),
    ("november", "nov", "نوامبر", "نومبر", "تشرین الثانی", "نوفمبر"),
    ("december", "dec", "دسامبر", "دسمبر", "کانون الاول", "دیسمبر"),
)
LUNAR_MONTHS = (
    ("محرم", "محرم الحرام", "muharram", "moharram", "muharam", "moharam"),
    ("صفر", "صفر المظفر", "safar"),
    ("ربیع الاول", "ربیع الاولی", "rabi al awwal", "rabi ul awwal", "rabi al awal",
     "rabi ol avval", "rabi al oula", "rabi i", "rabiolavval", "rabi al-awwal"),
    ("ربیع الثانی", "ربیع الاخر", "rabi al thani", "rabi ath thani", "rabi al akhir",
     "rabi ul thani", "rabi us sani", "rabi al sani", "rabi ol sani", "rabi ii", "rabiolsani"),
    ("جمادی الاول", "جمادی الاولی", "jumada al awwal", "jumada al ula", "jumada al oula",
     "jamadi al awwal", "jamadi ul awwal", "jamadi ol avval", "jumada i"),
    ("جمادی الثانی", "جمادی الثانیه", "جمادی الاخر", "جمادی الاخره", "جمادی الاخری",
     "jumada al thani", "jumada ath thani", "jumada al akhirah", "jumada al akhira",
     "jamadi al thani", "jamadi us sani", "jamadi al sani", "jamadi ol sani", "jumada ii"),
    ("رجب", "rajab"),
    ("شعبان", "shaban", "shaaban"),
    ("رمضان", "رمضان المبارک", "ramadan", "ramazan", "ramadhan"),
    ("شوال", "shawwal", "shawal", "shavval"),
    ("ذی القعده", "ذیقعده", "ذوالقعده", "ذوالقعده", "dhu al qadah", "dhu al qada", "dhul qadah",
     "dhul qada", "dhu al qidah", "dhu al qida", "dhul qidah", "zul qadah", "zul qada",
     "zi al qadah", "zilqad", "zilqadah", "zighadeh", "zighade", "dhu al-qadah"),
    ("ذی الحجه", "ذیحجه", "ذوالحجه", "dhu al hijjah", "dhu al hijja", "dhul hijjah",
     "dhul hijja", "zul hijjah", "zul hijja", "zi al hijjah", "zilhaj", "zilhijjah",
     "zil hajj", "zilhajjeh", "zihajjeh", "zilhajje"),
)
# Seasons by their place in the Solar Hijri year (1 = spring); the flag says whether the
# word is English, which hints the writer thinks in the Gregorian calendar.
SEASONS = (
    (1, ("بهار",), ("spring",)),
    (2, ("تابستان",), ("summer",)),
    (3, ("پاییز", "پائیز", "خزان"), ("autumn", "fall")),
    (4, ("زمستان",), ("winter",)),
)
# Number words are already digits when parts are found: "نیمه دوم" is "نیمه 2" by then,
# and "the second half of" is "the 2 half of".
PARTS = {
    "first_half": ("نیمه 1", "نیمه ی 1", "نیمه اول", "1 half of", "the 1 half of"),
    "second_half": ("نیمه 2", "نیمه ی 2", "2 half of", "the 2 half of"),
    "early": ("اوایل", "اوائل", "ابتدای", "ابتدا", "اول های", "اوان", "آغاز", "شروع",
              "early", "beginning of", "the beginning of", "start of", "the start of"),
    "mid": ("اواسط", "وسط های", "وسط", "نیمه", "میانه", "mid", "middle of", "the middle of",
            "midst of"),
    "late": ("اواخر", "آخرهای", "آخر های", "آخر", "پایان", "انتهای", "late", "end of",
             "the end of"),
}
# Days families name rather than number: (calendar, month, day).
NAMED_DAYS = {
    ("solar_hijri", 1, 1): ("نوروز", "عید نوروز", "nowruz", "norooz", "nowrooz"),
    ("solar_hijri", 9, 30): ("شب یلدا", "یلدا", "yalda"),
    ("lunar_hijri", 1, 9): ("تاسوعا", "tasua", "tasu'a"),
    ("lunar_hijri", 1, 10): ("عاشورا", "ashura", "ashoura"),
    ("lunar_hijri", 10, 1): ("عید فطر", "eid al fitr", "eid ul fitr", "eid-e fetr"),
    ("lunar_hijri", 12, 10): ("عید قربان", "عید اضحی", "eid al adha", "eid ul adha",
                              "eid-e ghorban"),
    ("gregorian", 12, 25): ("christmas", "کریسمس"),
}
CALENDAR_MARKERS = {
    "solar_hijri": ("هجری شمسی", "شمسی", "خورشیدی", "ه ش", "ه.ش", "هش", "ش", "sh", "shamsi",
                    "solar hijri", "solar", "ap"),
    "lunar_hijri": ("هجری قمری", "قمری", "ه ق", "ه.ق", "هق", "ق", "ah", "a.h", "qamari",
                    "lunar hijri", "lunar", "hijri qamari"),
    "gregorian": ("میلادی", "م", "ad", "a.d", "ce", "c.e", "gregorian", "miladi"),
}
FILLER = (
    "ماه", "سال", "سالِ", "روز", "در", "هجری", "تاریخ", "شب", "صبح", "ظهر", "عصر", "of", "the",
    "year", "month", "day", "in", "on", "hijri", "hijra", "sometime", "some time", "during",
    "شنبه", "یکشنبه", "دوشنبه", "سه شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "saturday", "sunday",
    "monday", "tuesday", "wednesday", "thursday", "friday",
)
VAGUE = (
    "approximately", "approx", "about", "around", "circa", "ca", "c", "roughly", "maybe",
    "probably", "perhaps", "possibly", "in or around", "حدودا", "در حدود", "حدود", "تقریبا",
    "حوالی", "احتمالا", "شاید", "گویا", "ظاهرا",
)
RANGE_OPENERS = ("between", "from", "بین", "میان", "از")
RANGE_SEPARATORS = ("to", "until", "till", "through", "thru", "and", "or", "تا", "الی", "و",
                    "یا")


def alternation(names: tuple[str, ...] | list[str]) -> str:
    """One regex alternative per name, longest first, words joined by any separator."""
    keys = sorted({match_key(name) for name in names}, key=len, reverse=True)
    return "|".join(SEPARATOR.join(re.escape(word) for word in key.split()) for key in keys)


def squash(name: str) -> str:
    """Drop the spaces, hyphens and ZWNJs that may or may not separate a name's words."""
    return re.sub(r"[\s\-\u200c]", "", match_key(name))
