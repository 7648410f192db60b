"""Normalization: pure functions that turn listed text into comparable values.

- ``names``: person names, name keys, nickname relatives
- ``degrees``: post-nominal credentials ("M.D., Ph.D." -> ["MD", "PHD"])
- ``specialties``: specialty labels -> board certificate names; which claims a certificate supports
- ``places``: states, ZIP codes, phone numbers, city keys
- ``schools``: medical school names
- ``npi``: NPI check digits
- ``vocab``: where the vocabularies in ``data/vocab`` live
"""
