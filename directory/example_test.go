package directory_test

import (
	"encoding/json"
	"fmt"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Example creates a group below another and a user in it, as a store
// would with two write bodies, then reads the user's superuser status and
// merged attributes through the hierarchy, and shows a refused write.
func Example() {
	table := map[uuid.UUID]directory.Group{}
	lookup := func(pk uuid.UUID) (directory.Group, bool) { g, ok := table[pk]; return g, ok }

	admins, _ := directory.DecodeGroup(directory.DefaultGroup(),
		[]byte(`{"name":"admins","is_superuser":true,"attributes":{"theme":"dark"}}`), validate.Create)
	admins.PK = uuid.MustParse("00000000-0000-4000-8000-000000000001") // the store's id
	table[admins.PK] = admins

	ops, _ := directory.DecodeGroup(directory.DefaultGroup(),
		[]byte(`{"name":"ops","parent":"00000000-0000-4000-8000-000000000001","attributes":{"theme":"light","pager":true}}`), validate.Create)
	ops.PK = uuid.MustParse("00000000-0000-4000-8000-000000000002")
	table[ops.PK] = ops

	alice, err := directory.DecodeUser(directory.DefaultUser(),
		[]byte(`{"username":"alice","name":"Alice","groups":["00000000-0000-4000-8000-000000000002"]}`), validate.Create)
	fmt.Println(alice, err)
	fmt.Println("superuser:", alice.IsSuperuser(lookup), "member of admins:", admins.IsMember(alice, lookup))
	merged, err := alice.GroupAttributes(lookup, nil)
	if err != nil {
		panic(err)
	}
	attrs, _ := json.Marshal(merged)
	fmt.Println("attributes:", string(attrs))

	_, err = directory.DecodeUser(directory.DefaultUser(),
		[]byte(`{"username":"outpost","name":"","path":"/x","type":"internal_service_account"}`), validate.Create)
	body, _ := json.Marshal(err)
	fmt.Println(string(body))
	// Output:
	// alice <nil>
	// superuser: true member of admins: true
	// attributes: {"pager":true,"theme":"light"}
	// {"path":["No leading or trailing slashes allowed."],"type":["Setting a user to internal service account is not allowed."]}
}
