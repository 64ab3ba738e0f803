package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/store"
	"github.com/authflow/authflow/validate"
	"github.com/google/uuid"
)

// Usage lines of the users and groups commands.
const (
	usageUsersAdd         = "usage: authflow users add [-db PATH] -username U [-name N] [-email E] [-group NAME]... [-password-file FILE | -no-password] [-o text|json]"
	usageUsersList        = "usage: authflow users list [-db PATH] [-search S] [-o text|json]"
	usageUsersSetPassword = "usage: authflow users set-password [-db PATH] [-password-file FILE | -no-password] USER"
	usageUsersDelete      = "usage: authflow users delete [-db PATH] USER"
	usageGroupsAdd        = "usage: authflow groups add [-db PATH] [-parent NAME] [-superuser] [-o text|json] NAME"
	usageGroupsList       = "usage: authflow groups list [-db PATH] [-search S] [-o text|json]"
	usageGroupsAddUser    = "usage: authflow groups add-user [-db PATH] GROUP USER"
	usageGroupsRemoveUser = "usage: authflow groups remove-user [-db PATH] GROUP USER"
)

// dirEnv is what the users and groups commands run with: standard input
// (for passwords), the outputs, the linked-in backend, and the store
// options every store they open starts from (tests choose a cheap
// password policy there).
type dirEnv struct {
	in             console
	stdout, stderr io.Writer
	nb             newBackend
	opts           store.Options
}

// dirCmd is one users or groups subcommand being run.
type dirCmd struct {
	*dirEnv
	name string // "users add"
	fs   *flag.FlagSet
	src  *source
	out  *string // -o, when the command has it
	line string  // the usage line, with the backend's flags
}

// newDirCmd makes the flag set of subcommand name ("users add").
func (e *dirEnv) newDirCmd(name string) *dirCmd {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &dirCmd{dirEnv: e, name: name, fs: fs}
	c.src = newSource(fs, e.nb, "path of the bbolt `file`")
	return c
}

// outputFlag adds -o text|json.
func (c *dirCmd) outputFlag() {
	c.out = c.fs.String("o", "text", "output `format`: text (a table) or json (authentik's representation)")
}

func (c *dirCmd) json() bool { return c.out != nil && *c.out == "json" }

// parse parses the flags wherever they stand among the arguments
// ("groups add admins -superuser" as well as "groups add -superuser
// admins"; after "--" everything is an argument), and checks that there
// are nargs arguments and a known -o. ok is false when the command must
// exit with code: 0 after -h, 2 for a wrong command line.
func (c *dirCmd) parse(args []string, line string, nargs int) (pos []string, code int, ok bool) {
	line = usageLine(c.nb, line)
	c.line = line
	c.fs.Usage = func() {
		fmt.Fprint(c.stderr, line+"\n\nFlags:\n")
		c.fs.PrintDefaults()
	}
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := c.fs.Args()
		if used := args[:len(args)-len(rest)]; len(used) > 0 && used[len(used)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != nargs || c.out != nil && *c.out != "text" && *c.out != "json" {
		fmt.Fprintln(c.stderr, line)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// usage refuses the command line with a reason: exit 2.
func (c *dirCmd) usage(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "authflow %s: %s\n%s\n", c.name, fmt.Sprintf(format, args...), c.line)
	return exitUsage
}

// open opens the store: read-only for a command that only reads, and
// only a file that exists for one that changes an existing user or
// group; "users add" and "groups add" create a missing file, as import
// does.
func (c *dirCmd) open(ctx context.Context, readOnly, create bool) (*store.Store, int) {
	if !create && !c.src.chosen() {
		if _, err := os.Stat(*c.src.path); err != nil {
			fmt.Fprintf(c.stderr, "authflow: %v\n", err)
			return nil, exitError
		}
	}
	opts := c.opts
	opts.ReadOnly = readOnly
	opts.MaxPageSize = listPageSize
	s, err := c.src.open(ctx, &opts)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			fmt.Fprintf(c.stderr, "authflow: %s is locked by another process (an authflow serve on it? change users through its API, or stop it)\n", c.src)
		} else {
			fmt.Fprintf(c.stderr, "authflow: %v\n", err)
		}
		return nil, exitError
	}
	return s, exitOK
}

// fail says what went wrong and returns the exit status: 1 for what the
// input got wrong (authentik's validation messages, an unknown user or
// group, a refused delete, a password refused or mistyped), 3 for a
// source that cannot be read or a store that fails.
func (c *dirCmd) fail(err error) int {
	var ve *validate.Error
	var protected *store.ProtectedError
	switch {
	case errors.Is(err, store.ErrCorrupt):
		fmt.Fprintf(c.stderr, "authflow %s: %v\n", c.name, err)
		return exitError
	case errors.As(err, &protected):
		fmt.Fprintf(c.stderr, "authflow %s: %s\n", c.name, protectedSentence(protected))
		return exitInvalid
	case errors.As(err, &ve):
		fmt.Fprintf(c.stderr, "authflow %s: %v\n", c.name, ve)
		return exitInvalid
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(c.stderr, "authflow %s: %v\n", c.name, err)
		return exitInvalid
	case errors.Is(err, errUnreadable):
		fmt.Fprintf(c.stderr, "authflow %s: %v\n", c.name, err)
		return exitError
	case errors.Is(err, errPasswordMismatch), errors.Is(err, errPasswordEmpty), errors.Is(err, errPasswordLong),
		errors.Is(err, errPasswordUTF8), errors.Is(err, errNoPassword):
		fmt.Fprintf(c.stderr, "authflow %s: %v; nothing was written\n", c.name, err)
		return exitInvalid
	case errors.Is(err, context.Canceled), errors.Is(err, errInterrupted):
		fmt.Fprintf(c.stderr, "authflow %s: interrupted; nothing was written\n", c.name)
		return exitInvalid
	}
	fmt.Fprintf(c.stderr, "authflow %s: %v\n", c.name, err)
	return exitError
}

// protectedSentence is the API's sentence for a delete that protected
// references refuse (its 409 detail), naming every blocker.
func protectedSentence(e *store.ProtectedError) string {
	what := e.Name
	if what == "" {
		what = e.Model + " " + e.PK.String()
	}
	names := make([]string, len(e.Blockers))
	for i, b := range e.Blockers {
		names[i] = strconv.Quote(b.Name)
	}
	by := "other objects"
	switch n := len(names); n {
	case 0:
	case 1:
		by = names[0]
	default:
		by = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
	}
	return `Cannot delete "` + what + `" because it is referenced by ` + by + "; change or delete those first."
}

// notFoundError is the error of a user or group named on the command
// line that does not exist: it says which, and is store.ErrNotFound.
type notFoundError struct{ what string }

func (e notFoundError) Error() string { return e.what }

func (notFoundError) Is(target error) bool { return target == store.ErrNotFound }

// errDryRun rolls back the trial of a user before its password is read.
var errDryRun = errors.New("cli: dry run")

// findUser returns the user whose username is ref or, when none is, whose
// pk ref spells.
func findUser(tx *store.Tx, ref string) (directory.User, error) {
	u, err := store.Users.Get(tx, store.By("username", ref))
	if errors.Is(err, store.ErrNotFound) {
		if _, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			u, err = store.Users.Get(tx, store.By("pk", ref))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return u, notFoundError{fmt.Sprintf("no user with username or pk %q", ref)}
	}
	return u, err
}

// findGroup returns the group named ref or, when none is, whose pk ref
// spells.
func findGroup(tx *store.Tx, ref string) (directory.Group, error) {
	g, err := store.Groups.Get(tx, store.By("name", ref))
	if errors.Is(err, store.ErrNotFound) {
		if _, perr := uuid.Parse(ref); perr == nil {
			g, err = store.Groups.Get(tx, store.By("pk", ref))
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return g, notFoundError{fmt.Sprintf("no group with name or pk %q", ref)}
	}
	return g, err
}

// userPK is the key of the user numbered pk.
func userPK(pk int64) store.Key { return store.By("pk", strconv.FormatInt(pk, 10)) }

// usersCmd runs "authflow users SUBCOMMAND".
func usersCmd(ctx context.Context, args []string, e *dirEnv) int {
	return e.dispatch(ctx, args, "users", usersUsage, map[string]func(context.Context, []string) int{
		"add": e.usersAdd, "list": e.usersList, "set-password": e.usersSetPassword, "delete": e.usersDelete,
	})
}

const usersUsage = usageUsersAdd + "\n" + usageUsersList + "\n" + usageUsersSetPassword + "\n" + usageUsersDelete + "\n"

const groupsUsage = usageGroupsAdd + "\n" + usageGroupsList + "\n" + usageGroupsAddUser + "\n" + usageGroupsRemoveUser + "\n"

// groupsCmd runs "authflow groups SUBCOMMAND".
func groupsCmd(ctx context.Context, args []string, e *dirEnv) int {
	return e.dispatch(ctx, args, "groups", groupsUsage, map[string]func(context.Context, []string) int{
		"add": e.groupsAdd, "list": e.groupsList,
		"add-user":    func(ctx context.Context, a []string) int { return e.groupsMember(ctx, a, true) },
		"remove-user": func(ctx context.Context, a []string) int { return e.groupsMember(ctx, a, false) },
	})
}

// dispatch runs the subcommand args[0] of "authflow name" from cmds;
// none, or an unknown one, prints usage and is a usage error, and help
// prints usage.
func (e *dirEnv) dispatch(ctx context.Context, args []string, name, usage string, cmds map[string]func(context.Context, []string) int) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usageLine(e.nb, usage))
		return exitUsage
	}
	if run, ok := cmds[args[0]]; ok {
		return run(ctx, args[1:])
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usageLine(e.nb, usage))
		return exitOK
	}
	fmt.Fprintf(e.stderr, "authflow %s: unknown command %q\n\n%s", name, args[0], usageLine(e.nb, usage))
	return exitUsage
}

// stringsFlag is a flag that may be given more than once.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// passwordFlags are -password-file and -no-password.
type passwordFlags struct {
	file *string
	none *bool
}

func (c *dirCmd) passwordFlags() passwordFlags {
	return passwordFlags{
		file: c.fs.String("password-file", "", "`file` whose first line is the password (default: prompt on a terminal, else the first line of standard input)"),
		none: c.fs.Bool("no-password", false, "set no usable password (the user cannot log in with one)"),
	}
}

// usersAdd creates a user, with a password unless -no-password.
func (e *dirEnv) usersAdd(ctx context.Context, args []string) int {
	c := e.newDirCmd("users add")
	username := c.fs.String("username", "", "the user's `username` (required; unique, compared exactly)")
	name := c.fs.String("name", "", "the user's display `name`")
	email := c.fs.String("email", "", "the user's email `address`")
	var groups stringsFlag
	c.fs.Var(&groups, "group", "`name` of a group the user joins (repeat for more)")
	pw := c.passwordFlags()
	c.outputFlag()
	if _, code, ok := c.parse(args, usageUsersAdd, 0); !ok {
		return code
	}
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["username"] {
		return c.usage("-username is required")
	}
	if *pw.file != "" && *pw.none {
		return c.usage("-password-file and -no-password exclude each other")
	}
	s, code := c.open(ctx, false, true)
	if s == nil {
		return code
	}
	defer s.Close()
	create := func(tx *store.Tx) (directory.User, error) {
		body := map[string]any{"username": *username, "name": *name, "email": *email}
		ids := []uuid.UUID{}
		for _, g := range groups {
			grp, err := findGroup(tx, g)
			if err != nil {
				return directory.User{}, err
			}
			if !slices.Contains(ids, grp.PK) {
				ids = append(ids, grp.PK)
			}
		}
		body["groups"] = ids
		raw, err := json.Marshal(body)
		if err != nil {
			return directory.User{}, err
		}
		return store.Users.CreateJSON(tx, raw, nil)
	}
	// Try the user first, so that a taken username or a bad address is
	// said before the password is asked for; the trial writes nothing.
	err := s.Update(ctx, func(tx *store.Tx) error {
		if _, err := create(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if !errors.Is(err, errDryRun) {
		return c.fail(err)
	}
	var hash store.PasswordHash
	if !*pw.none {
		raw, err := readPassword(ctx, e.in, *pw.file)
		if err != nil {
			return c.fail(err)
		}
		if hash, err = s.HashPassword(raw); err != nil {
			return c.fail(err)
		}
	}
	var v directory.UserView
	err = s.Update(ctx, func(tx *store.Tx) error {
		u, err := create(tx)
		if err != nil {
			return err
		}
		if hash.Usable() {
			if err := tx.SetPassword(u.PK, hash, nil); err != nil {
				return err
			}
		}
		v, err = store.Users.View(tx, userPK(u.PK))
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	if c.json() {
		return writeJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "created user %s (pk %d)", cell(v.Username), v.PK)
	if !hash.Usable() {
		fmt.Fprint(c.stdout, " without a usable password")
	}
	fmt.Fprintln(c.stdout)
	return exitOK
}

// usersList lists the users, by username.
func (e *dirEnv) usersList(ctx context.Context, args []string) int {
	return listCommand(ctx, e, args, "users list", usageUsersList,
		"list only users whose username, name, email, active flag, uuid or attributes hold every `term`",
		store.Users, "USERNAME\tPK\tNAME\tEMAIL\tACTIVE\tGROUPS",
		func(u directory.UserView) string {
			names := make([]string, len(u.GroupsObj))
			for i, g := range u.GroupsObj {
				names[i] = cell(g.Name)
			}
			return fmt.Sprintf("%s\t%d\t%s\t%s\t%t\t%s", cell(u.Username), u.PK, cell(u.Name), cell(u.Email), u.IsActive, strings.Join(names, ","))
		})
}

// listCommand runs a list command (users list, groups list): its
// -search and -o flags, one read transaction, and the list as JSON or as
// a table of header and one row per object.
func listCommand[T, V any](ctx context.Context, e *dirEnv, args []string, name, line, searchHelp string,
	coll store.Coll[T, V], header string, row func(V) string) int {
	c := e.newDirCmd(name)
	search := c.fs.String("search", "", searchHelp)
	c.outputFlag()
	if _, code, ok := c.parse(args, line, 0); !ok {
		return code
	}
	s, code := c.open(ctx, true, false)
	if s == nil {
		return code
	}
	defer s.Close()
	var list []V
	err := s.View(ctx, func(tx *store.Tx) error {
		var err error
		list, err = listAll(tx, coll, *search)
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	if c.json() {
		return writeJSON(c.stdout, list)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, v := range list {
		fmt.Fprintln(tw, row(v))
	}
	tw.Flush()
	return exitOK
}

// listPageSize is the page size of the lists, and the most a store the
// commands open allows: the whole list in one page. A searched list is a
// scan of every record for each page it makes, so pages of the API's
// size would make a search of n users cost n²/1000 record reads; one
// page costs n.
const listPageSize = 1 << 30

// listAll reads every page of a list, in one transaction.
func listAll[T, V any](tx *store.Tx, coll store.Coll[T, V], search string) ([]V, error) {
	out := []V{}
	for page := 1; ; page++ {
		p, err := coll.List(tx, store.Query{Search: search, Page: page, PageSize: listPageSize})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Results...)
		if p.Pagination.Next == 0 {
			return out, nil
		}
	}
}

// usersSetPassword sets a user's password, or with -no-password makes it
// unusable.
func (e *dirEnv) usersSetPassword(ctx context.Context, args []string) int {
	c := e.newDirCmd("users set-password")
	pw := c.passwordFlags()
	pos, code, ok := c.parse(args, usageUsersSetPassword, 1)
	if !ok {
		return code
	}
	if *pw.file != "" && *pw.none {
		return c.usage("-password-file and -no-password exclude each other")
	}
	s, code := c.open(ctx, false, false)
	if s == nil {
		return code
	}
	defer s.Close()
	var u directory.User
	err := s.View(ctx, func(tx *store.Tx) error {
		var err error
		u, err = findUser(tx, pos[0])
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	var hash store.PasswordHash
	if !*pw.none {
		raw, err := readPassword(ctx, e.in, *pw.file)
		if err != nil {
			return c.fail(err)
		}
		if hash, err = s.HashPassword(raw); err != nil {
			return c.fail(err)
		}
	}
	// By pk: the user found above, even if another now has its username.
	if err := s.Update(ctx, func(tx *store.Tx) error { return tx.SetPassword(u.PK, hash, nil) }); err != nil {
		return c.fail(err)
	}
	if hash.Usable() {
		fmt.Fprintf(c.stdout, "set the password of user %s (pk %d)\n", cell(u.Username), u.PK)
	} else {
		fmt.Fprintf(c.stdout, "user %s (pk %d) has no usable password now\n", cell(u.Username), u.PK)
	}
	return exitOK
}

// usersDelete deletes a user.
func (e *dirEnv) usersDelete(ctx context.Context, args []string) int {
	c := e.newDirCmd("users delete")
	pos, code, ok := c.parse(args, usageUsersDelete, 1)
	if !ok {
		return code
	}
	s, code := c.open(ctx, false, false)
	if s == nil {
		return code
	}
	defer s.Close()
	var u directory.User
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = findUser(tx, pos[0]); err != nil {
			return err
		}
		return store.Users.Delete(tx, userPK(u.PK), nil)
	})
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.stdout, "deleted user %s (pk %d)\n", cell(u.Username), u.PK)
	return exitOK
}

// groupsAdd creates a group.
func (e *dirEnv) groupsAdd(ctx context.Context, args []string) int {
	c := e.newDirCmd("groups add")
	parent := c.fs.String("parent", "", "`name` of the parent group")
	superuser := c.fs.Bool("superuser", false, "members are superusers")
	c.outputFlag()
	pos, code, ok := c.parse(args, usageGroupsAdd, 1)
	if !ok {
		return code
	}
	s, code := c.open(ctx, false, true)
	if s == nil {
		return code
	}
	defer s.Close()
	var v directory.GroupView
	err := s.Update(ctx, func(tx *store.Tx) error {
		body := map[string]any{"name": pos[0], "is_superuser": *superuser}
		if *parent != "" {
			p, err := findGroup(tx, *parent)
			if err != nil {
				return fmt.Errorf("-parent: %w", err)
			}
			body["parent"] = p.PK
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		g, err := store.Groups.CreateJSON(tx, raw, nil)
		if err != nil {
			return err
		}
		v, err = store.Groups.View(tx, store.PK(g.PK))
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	if c.json() {
		return writeJSON(c.stdout, v)
	}
	fmt.Fprintf(c.stdout, "created group %s (pk %s)\n", cell(v.Name), v.PK)
	return exitOK
}

// groupsList lists the groups, by name.
func (e *dirEnv) groupsList(ctx context.Context, args []string) int {
	return listCommand(ctx, e, args, "groups list", usageGroupsList,
		"list only groups whose name or superuser flag holds every `term`",
		store.Groups, "NAME\tPK\tPARENT\tSUPERUSER\tMEMBERS",
		func(g directory.GroupView) string {
			parent := ""
			if g.ParentName != nil {
				parent = cell(*g.ParentName)
			}
			return fmt.Sprintf("%s\t%s\t%s\t%t\t%d", cell(g.Name), g.PK, parent, g.IsSuperuser, len(g.UsersObj))
		})
}

// groupsMember adds a user to a group or removes one from it. As in
// authentik, adding a member or removing a non-member changes nothing and
// succeeds.
func (e *dirEnv) groupsMember(ctx context.Context, args []string, add bool) int {
	name, line := "groups remove-user", usageGroupsRemoveUser
	if add {
		name, line = "groups add-user", usageGroupsAddUser
	}
	c := e.newDirCmd(name)
	pos, code, ok := c.parse(args, line, 2)
	if !ok {
		return code
	}
	s, code := c.open(ctx, false, false)
	if s == nil {
		return code
	}
	defer s.Close()
	var g directory.Group
	var u directory.User
	changed := false
	err := s.Update(ctx, func(tx *store.Tx) error {
		var err error
		if g, err = findGroup(tx, pos[0]); err != nil {
			return err
		}
		if u, err = findUser(tx, pos[1]); err != nil {
			return err
		}
		changed, err = tx.SetMember(store.PK(g.PK), u.PK, add, nil)
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	switch {
	case add && changed:
		fmt.Fprintf(c.stdout, "added user %s to group %s\n", cell(u.Username), cell(g.Name))
	case add:
		fmt.Fprintf(c.stdout, "user %s is already in group %s\n", cell(u.Username), cell(g.Name))
	case changed:
		fmt.Fprintf(c.stdout, "removed user %s from group %s\n", cell(u.Username), cell(g.Name))
	default:
		fmt.Fprintf(c.stdout, "user %s is not in group %s\n", cell(u.Username), cell(g.Name))
	}
	return exitOK
}

// writeJSON writes v indented, as the other commands' -o json does.
func writeJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(w, "authflow: %v\n", err)
		return exitError
	}
	return exitOK
}

// cell is a value as a table or a message shows it: as it is when every
// character is printable and no tab, quoted otherwise (usernames may hold
// any character, and a terminal must not take one for a control
// sequence, nor a table for a column break).
func cell(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return strconv.Quote(s)
		}
	}
	return s
}
