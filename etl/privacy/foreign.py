"""Shapes of personal numbers from outside the mainland: NANP, Hong Kong and Taiwan phones,
US social security numbers, Hong Kong and Taiwan ID numbers, passports after a cue word.

Decisions (issue 11):
- They run on the folded text of etl.privacy.redact (ASCII digits, "-" for every dash, " "
  for every space) inside its whole-run lookarounds, so a shape inside a longer number is not
  a hit.  They come after the mainland shapes: at one position the first shape that matches
  wins, and "17185550123" is a mainland mobile before it is +1 718.
- NANP (US, Canada): area and exchange codes start with 2-9, as the plan requires; groups
  split by a space, dot or dash, the area code optionally in brackets, optionally after +1 or 1.
  Written unbroken, ten digits are still a phone number ("7185550123"): no figure in a
  rectification list or a 311 export is ten digits (the 311 Unique Key is eight).
- Hong Kong numbers are eight digits, exactly like a mainland local number or an amount, so
  they are hidden after +852 / (852) / 852-, or after a phone word (电话, 電話, phone, call ...).
- Taiwan: mobiles 09xx-xxx-xxx in any grouping, or after +886; landlines with a one-digit area
  code in brackets or before a dash ("(02)2345-6789", "02-2345-6789"), or after +886.
- US SSN: 3-2-4 with dashes or spaces, minus the never-issued 000, 666 and 9xx areas; nine
  digits unbroken only after "SSN" or "social security".
- Hong Kong ID "A123456(7)" by shape when the check digit is in brackets, otherwise after a
  cue word; Taiwan ID "A123456789" (letter, then 1/2, or 8/9 for residents' certificates, then
  eight digits) by shape, whatever its check digit, like mainland IDs.
- Passport-like numbers (one or two letters and 6-9 digits, or 8-9 digits) only after a cue:
  护照, passport, 通行证, 台胞证, 回乡证.
"""

from __future__ import annotations

_SEP = r"(?: ?[.-] ?| {1,2})"
_OPT = _SEP + "?"
_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9])"
_NOT_WORD_AFTER = r"(?![A-Za-z0-9])"

_NANP_AREA = r"[2-9][0-9]{2}"
_NANP_COUNTRY = r"(?:(?:\+|00)1" + _OPT + r"|1" + _SEP + r")"
_NANP_LOCAL = r"[2-9][0-9]{2}" + _OPT + r"[0-9]{4}"
_HK_COUNTRY = r"(?:\(?(?:\+|00)852\)?|\(852\)|852(?=[ -]))"
_TW_COUNTRY = r"(?:\(?(?:\+|00)886\)?)"

# (kind, pattern) in the order they are tried at one position; see etl.privacy.redact.
DIGIT_PATTERNS = [
    ("hk_phone", _HK_COUNTRY + _OPT + r"[2-9][0-9]{3}" + _OPT + r"[0-9]{4}"),
    ("tw_phone", _TW_COUNTRY + _OPT + r"9[0-9]{2}" + _OPT + r"[0-9]{3}" + _OPT + r"[0-9]{3}"),
    ("tw_phone", _TW_COUNTRY + _OPT + r"\(?0?[2-8]\)?" + _OPT + r"[0-9]{3,4}" + _OPT
     + r"[0-9]{4}"),
    ("tw_phone", r"09[0-9]{2}" + _OPT + r"[0-9]{3}" + _OPT + r"[0-9]{3}"),
    ("tw_phone", r"(?:\(0[2-8]\) ?|0[2-8] ?- ?)[0-9]{3,4}" + _OPT + r"[0-9]{4}"),
    ("nanp_phone", _NANP_COUNTRY + r"?\(" + _NANP_AREA + r"\) ?" + _NANP_LOCAL),
    ("nanp_phone", _NANP_COUNTRY + r"?" + _NANP_AREA + _OPT + _NANP_LOCAL),
    ("ssn", r"(?!000|666|9)[0-9]{3}(?:-| )(?!00)[0-9]{2}(?:-| )(?!0000)[0-9]{4}"),
    ("hk_id", _NOT_WORD_BEFORE + r"[A-Z]{1,2}[0-9]{6} ?\([0-9A]\)"),
    ("tw_id", _NOT_WORD_BEFORE + r"[A-Z][1289][0-9]{8}" + _NOT_WORD_AFTER),
]

# (kind, pattern with a group `number`): hidden only after the cue word.
KEYWORD_PATTERNS = [
    ("ssn", r"(?:SSN|ssn|[Ss]ocial [Ss]ecurity(?: [Nn]umber| [Nn]o\.?)?|社会安全号码?|社會安全號碼?)"
     r"[#:： ]{0,3}(?P<number>[0-9]{9})(?![0-9])"),
    ("hk_id", r"(?:HKID|香港身份证|香港身份證|身份证|身份證|[Ii][Dd] [Cc]ard|[Ii]dentity [Cc]ard)"
     r"(?:号码|号|號碼|號| [Nn]o\.?| [Nn]umber)?[#:： ]{0,3}"
     r"(?P<number>[A-Z]{1,2}[0-9]{6}[0-9A])" + _NOT_WORD_AFTER),
    ("passport", r"(?:护照|護照|[Pp]assport|PASSPORT|通行证|通行證|台胞证|台胞證|回乡证|回鄉證)"
     r"(?:号码|号|號碼|號| [Nn]o\.?| [Nn]umber| #)?[#:： ]{0,3}"
     r"(?P<number>[A-Z]{1,2}[0-9]{6,9}|[0-9]{8,9})" + _NOT_WORD_AFTER),
    ("phone", r"(?:電話|聯絡電話|聯繫電話|聯絡方式|手機|手机|[Pp]hone|PHONE|[Cc]all|[Cc]ontact|[Tt]el\.)"
     r"(?: [Nn]umber| [Nn]o\.?| at)?[#:： ]{0,3}"
     r"(?P<number>[2-9][0-9]{3}[ -]?[0-9]{4}|[2-9][0-9]{2}[-.][0-9]{4})(?![0-9])"),
]

# Words that open a keyword window (etl.privacy.redact looks for a hit only near them).
TRIGGERS = ("SSN", "ssn", "ocial", "社会安全", "社會安全", "HKID", "身份证", "身份證",
            "D card", "d card", "dentity", "护照", "護照", "assport", "PASSPORT", "通行证",
            "通行證", "台胞证", "台胞證", "回乡证", "回鄉證", "電話", "聯絡", "手機", "手机", "hone",
            "PHONE", "all", "ontact", "el.")
# Shapes shorter than the ten digits redact's own candidates need: IDs with a letter and
# SSNs.  Run on the text before folding, so every digit and dash counts.
CANDIDATE = (r"[A-Za-zＡ-Ｚａ-ｚ]{1,2}\d{6}|\d{3}[\s\-\u2010-\u2015\u2212\uff0d]{1,3}\d{2}"
             r"[\s\-\u2010-\u2015\u2212\uff0d]{1,3}\d{4}")
