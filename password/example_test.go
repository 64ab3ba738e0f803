package password_test

import (
	"fmt"
	"strings"

	"github.com/authflow/authflow/password"
)

func Example() {
	// A new password, as Django 5.1 stores it.
	stored, err := password.Hash("s3cret")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(stored, "pbkdf2_sha256$870000$"))

	ok, rehash, err := password.Check("s3cret", stored)
	fmt.Println(ok, rehash == "", err)

	// A hash imported from Django 3.2 (260,000 iterations) verifies, and
	// Check gives its replacement: store it, leave password_change_date.
	imported := "pbkdf2_sha256$260000$AbCdEfGhIjKlMnOpQrStUv$sR54qANKqfLvXojlMe7B/brW7wBT9cm2zqQX5dsGjgU="
	ok, rehash, _ = password.Check("hunter2", imported)
	fmt.Println(ok, strings.HasPrefix(rehash, "pbkdf2_sha256$870000$"))

	// Nothing verifies against an unusable password.
	ok, _, err = password.Check("s3cret", password.Unusable())
	fmt.Println(ok, err)

	// Output:
	// true
	// true true <nil>
	// true true
	// false <nil>
}

func ExamplePolicy_Check() {
	// A host that writes argon2id (here with small parameters).
	p := password.Policy{Algorithm: password.Argon2, Argon2: password.Argon2Params{Time: 1, Memory: 64, Threads: 1}}
	stored, _ := p.Hash("s3cret")
	fmt.Println(strings.Join(strings.Split(stored, "$")[:4], "$"))

	ok, rehash, _ := p.Check("s3cret", stored)
	fmt.Println(ok, rehash == "")

	// A stored hash that asks for absurd work is refused, not run.
	_, _, err := p.Check("s3cret", "pbkdf2_sha256$1000000000000$AbCdEfGhIjKlMnOpQrStUv$")
	fmt.Println(err)

	// Output:
	// argon2$argon2id$v=19$m=64,t=1,p=1
	// true true
	// password: parameters beyond limits: pbkdf2_sha256: iterations above 10000000
}
