#!/usr/bin/python3
"""Writes vectors.json: stored passwords in Django's formats and the raw
passwords they hold, made by Django itself where one was at hand.

Run with Debian 12's python3-django (3.2), python3-argon2 (argon2-cffi 21.1)
and python3-bcrypt (3.2): /usr/bin/python3 vectors.py > vectors.json

Salts are fixed so that the output is reproducible. Django 3.2 has no
scrypt hasher (4.0 added it); scrypt entries are written here in the format
of Django's ScryptPasswordHasher.encode ("%s$%d$%s$%d$%d$%s") from
hashlib.scrypt, the function that hasher calls. Entries whose source starts
with "RFC" or "phc" are not computed here: they are copied from the
documents named, and this script only checks them.
"""
import base64, binascii, hashlib, json

import django
from django.conf import settings

settings.configure()
django.setup()

import argon2
import bcrypt
from django.contrib.auth import hashers as h

SALT = "AbCdEfGhIjKlMnOpQrStUv"  # 22 characters of [a-zA-Z0-9], as Django's salt()
out = []


def add(name, password, encoded, source, upgrade=True):
    out.append(dict(name=name, password=password, encoded=encoded, source=source, upgrade=upgrade))


pb = h.PBKDF2PasswordHasher()
add("pbkdf2_sha256 current", "lètmein", pb.encode("lètmein", SALT, 870000), "Django 3.2 PBKDF2PasswordHasher.encode", upgrade=False)
add("pbkdf2_sha256 empty password", "", pb.encode("", SALT, 870000), "Django 3.2 PBKDF2PasswordHasher.encode", upgrade=False)
add("pbkdf2_sha256 Django 3.2 default", "hunter2", h.make_password("hunter2", SALT, "pbkdf2_sha256"), "Django 3.2 make_password (260000 iterations)")
add("pbkdf2_sha256 short salt", "lètmein", pb.encode("lètmein", "seasalt", 870000), "Django 3.2 PBKDF2PasswordHasher.encode")
add("pbkdf2_sha256 21-character salt", "lètmein", pb.encode("lètmein", SALT[:21], 870000), "Django 3.2 PBKDF2PasswordHasher.encode")
add("pbkdf2_sha1", "lètmein", h.make_password("lètmein", SALT, "pbkdf2_sha1"), "Django 3.2 make_password")

# argon2id as Django 3.2+ writes it; argon2-cffi 21.1's hash length is 16,
# 23.1's (authentik 2025.6) is 32: both are written.
ar = h.Argon2PasswordHasher()
add("argon2id hash length 16", "lètmein", ar.encode("lètmein", SALT), "Django 3.2 Argon2PasswordHasher.encode, argon2-cffi 21.1")
argon2.DEFAULT_HASH_LENGTH = 32
add("argon2id Django 5.1", "lètmein", ar.encode("lètmein", SALT), "Django 3.2 Argon2PasswordHasher.encode, hash length 32 as argon2-cffi 23.1")
# argon2i as Django 1.10-3.1 wrote it (m=512, t=2, p=2, hash length 16).
data = argon2.low_level.hash_secret("lètmein".encode(), SALT.encode(), time_cost=2, memory_cost=512, parallelism=2, hash_len=16, type=argon2.low_level.Type.I)
add("argon2i Django 1.10-3.1", "lètmein", "argon2" + data.decode(), "argon2-cffi 21.1 hash_secret with Django 1.10-3.1's parameters")

bc = h.BCryptSHA256PasswordHasher()
add("bcrypt_sha256 cost 12", "lètmein", bc.encode("lètmein", bcrypt.gensalt(12)), "Django 3.2 BCryptSHA256PasswordHasher.encode")
add("bcrypt_sha256 cost 4", "lètmein", bc.encode("lètmein", b"$2b$04$" + b"abcdefghijklmnopqrstuu"), "Django 3.2 BCryptSHA256PasswordHasher.encode")
pre = binascii.hexlify(hashlib.sha256(b"password").digest())
add("bcrypt_sha256 prehash", "password", "bcrypt_sha256$" + bcrypt.hashpw(pre, b"$2b$04$" + b"CCCCCCCCCCCCCCCCCCCCC.").decode(), "python bcrypt 3.2 hashpw of the hex SHA-256 of the password")


def scrypt(password, salt, n, r, p):
    hsh = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, dklen=64)
    return "scrypt$%d$%s$%d$%d$%s" % (n, salt, r, p, base64.b64encode(hsh).decode("ascii").strip())


add("scrypt Django 4.0", "lètmein", scrypt("lètmein", SALT, 2**14, 8, 1), "hashlib.scrypt in Django 4.0's format (p=1)")
add("scrypt Django 5.1", "lètmein", scrypt("lètmein", SALT, 2**14, 8, 5), "hashlib.scrypt in Django's format (p=5, ticket #35428)")


def known(name, password, encoded, source, check):
    assert encoded == check, (name, encoded, check)
    add(name, password, encoded, source)


def b64(hexs):
    return base64.b64encode(bytes.fromhex(hexs)).decode()


# RFC 6070 section 2, PBKDF2-HMAC-SHA1, c = 4096.
known("RFC 6070 pbkdf2_sha1", "password", "pbkdf2_sha1$4096$salt$" + b64("4b007901b765489abead49d926f721d065a429c1"),
      "RFC 6070 section 2", h.PBKDF2SHA1PasswordHasher().encode("password", "salt", 4096))
# RFC 7914 section 11, PBKDF2-HMAC-SHA256, first 32 of the 64 bytes.
known("RFC 7914 pbkdf2_sha256", "passwd", "pbkdf2_sha256$1$salt$" + b64("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"),
      "RFC 7914 section 11", pb.encode("passwd", "salt", 1))
# RFC 7914 section 12, scrypt N=1024, r=8, p=16, 64 bytes.
known("RFC 7914 scrypt", "password", "scrypt$1024$NaCl$8$16$" + b64(
    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"),
    "RFC 7914 section 12", scrypt("password", "NaCl", 1024, 8, 16))
# phc-winner-argon2 src/test.c, version 0x13.
for name, enc in [
    ("phc argon2i", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8"),
    ("phc argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"),
]:
    assert argon2.PasswordHasher().verify(enc, "password")
    add(name, "password", "argon2" + enc, "phc-winner-argon2 src/test.c")

print(json.dumps(out, indent=1, ensure_ascii=False))
