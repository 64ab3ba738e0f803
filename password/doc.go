// Package password hashes and checks passwords in Django's formats, so that
// authflow reads the password column of an authentik 2025.6 database as
// authentik does and writes what authentik would read back.
//
// The package is pure: it keeps nothing and does no I/O besides reading
// crypto/rand for salts. The algorithms are the standard library's
// (crypto/pbkdf2) and golang.org/x/crypto's (argon2, bcrypt, scrypt).
//
// # Formats
//
// A stored hash names its algorithm before its first "$". [Check] verifies
// the five that Django 5.1's default hasher list verifies:
//
//	pbkdf2_sha256$<iterations>$<salt>$<hash>
//	pbkdf2_sha1$<iterations>$<salt>$<hash>
//	argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
//	argon2$argon2i$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
//	bcrypt_sha256$$2b$<cost>$<22 salt><31 hash>
//	scrypt$<N>$<salt>$<r>$<p>$<hash>
//
// PBKDF2 and scrypt use the salt as its bytes (it is not decoded) and
// store the key in standard base64 with padding: 32 bytes for
// pbkdf2_sha256, 20 for pbkdf2_sha1, 64 for scrypt. Checking re-encodes
// the password with the stored parameters and compares the whole strings,
// as Django does, so a non-canonical number or unpadded base64 never
// verifies. argon2 is argon2-cffi's PHC string behind "argon2": unpadded
// standard base64, Django's salt being the base64 of its 22 characters;
// the key is derived at the stored hash's length and compared. bcrypt_sha256
// is bcrypt (2a, 2b or 2y) of the lowercase hex SHA-256 of the password.
// Every comparison takes constant time.
//
// Not verified: plain bcrypt, md5, sha1, crypt and the unsalted variants
// (not in Django's default list), argon2d and argon2 version 16 (neither
// written by Django, nor computed by x/crypto). Check returns
// [ErrUnsupported] for them.
//
// An unusable password is "!" and 40 characters of [a-zA-Z0-9] ([Unusable],
// [IsUsable]); nothing verifies against it, nor against an empty stored
// value. The empty password is a valid password: it hashes and verifies.
//
// # Policy
//
// A [Policy] says how new hashes are written; its zero value is Django
// 5.1's, pbkdf2_sha256 with 870,000 iterations and a salt of 22 characters
// of [a-zA-Z0-9]. A host may choose another iteration count, or argon2id
// (Django's Argon2PasswordHasher encoding, by default m=102400, t=2, p=8,
// with a 32-byte hash).
//
// A stored hash is current when it is in the policy's algorithm with the
// policy's parameters (iterations; or argon2id with m, t, p and a 32-byte
// hash) and a salt of at least 22 characters. [Policy.Check] of a correct
// password against a hash that is not current also returns a new hash to
// store in its place. As in authentik, such an upgrade is not a password
// change: the caller stores it without moving password_change_date.
//
// # Timing
//
// Check spends one hash of the policy's whether or not there is a hash to
// check (an empty, unusable, unsupported, malformed or out-of-bounds stored
// value costs one hash, as in Django since CVE-2024-39329), and a wrong
// password against a pbkdf2_sha256 hash with fewer iterations than the
// policy's runs the missing iterations (Django's harden_runtime). Like
// Django, it does not even out argon2, bcrypt or scrypt parameters, nor a
// change of algorithm.
//
// # Bounds
//
// Stored hashes may come from an import, so their parameters are not
// trusted: a stored hash that asks for more work than [MaxIterations] PBKDF2
// iterations (10 million), argon2 with m above 1 GiB ([MaxArgon2Memory]), t
// above 32, p above 64 or m×t above 4 GiB, a bcrypt cost above 16, or
// scrypt with N above 2^20, 128×r×(N+p) above 256 MiB or N×r×p above 2^24, or
// is longer than 512 bytes, is refused with [ErrLimit] without doing that
// work. Each bound is 8 to 64 times Django 5.1's parameter (bcrypt's cost
// bound is 16 times its work).
//
// # Secrets
//
// No error text contains a password, a salt or a hash: errors name the
// algorithm, the field and the bound at most.
package password
