package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/store"
)

// blueprintFlags are the blueprint options serve and import share.
type blueprintFlags struct {
	dir, env *string
}

func newBlueprintFlags(fs *flag.FlagSet, dirHelp string) blueprintFlags {
	return blueprintFlags{
		dir: fs.String("blueprints", "", dirHelp),
		env: fs.String("blueprint-env", "", "comma-separated `prefixes` of the environment variables that !Env may read (default: none)"),
	}
}

func (b blueprintFlags) options(defaultDir string) blueprint.Options {
	o := blueprint.Options{Dir: *b.dir, CheckExpression: checkExpression, CheckPromptExpression: checkPromptExpression}
	if o.Dir == "" {
		o.Dir = defaultDir
	}
	// An empty prefix would allow every variable (the process's secrets
	// too): "A_,", " A_" and "," allow what they name, and no more.
	for _, p := range strings.Split(*b.env, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.EnvPrefixes = append(o.EnvPrefixes, p)
		}
	}
	return o
}

// Exit codes of import: the blueprint imported (or, dry, would import),
// an entry failed (nothing written), the command line is wrong, or
// something else failed (a file that cannot be read or opened).
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
	exitError   = 3
)

// importCmd imports blueprint files (a directory stands for the
// *.yaml and *.yml files below it, in name order) into a bbolt file, each
// in one transaction, and prints what each entry did. diff is import
// -dry-run.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer, diff bool, nb newBackend) int {
	name := "import"
	if diff {
		name = "diff"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`, created if missing")
	dry := new(bool)
	if !diff {
		dry = fs.Bool("dry-run", false, "check and report every entry, write nothing")
	}
	strict := fs.Bool("strict", false, "make an attr the model does not have an error, not a warning")
	out := fs.String("o", "text", "output `format`: text or json")
	bf := newBlueprintFlags(fs, "`dir` that metaapplyblueprint entries find blueprints in (default: each file's directory)")
	line := usageLine(nb, "usage: authflow "+name+" [-db PATH] [-dry-run] [-strict] [-o text|json] [-blueprints DIR] [-blueprint-env PREFIXES] FILE|DIR...")
	if diff {
		line = strings.Replace(line, " [-dry-run]", "", 1)
	}
	if code, ok := parseArgs(fs, args, line, stderr, func() bool { return fs.NArg() > 0 && (*out == "text" || *out == "json") }); !ok {
		return code
	}
	files, err := blueprintFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "authflow %s: %v\n", name, err)
		return exitError
	}
	s, err := src.open(ctx, nil)
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return exitError
	}
	defer s.Close()
	code := exitOK
	var results []any
	for i, file := range files {
		if *out == "text" && len(files) > 1 {
			fmt.Fprintf(stdout, "[%d/%d] %s\n", i+1, len(files), file)
		}
		res, c := importFile(ctx, s, file, bf, *dry || diff, *strict, stderr)
		if c != exitOK {
			code = max(code, c)
		}
		if res == nil {
			continue
		}
		if *out == "json" {
			results = append(results, struct {
				File    string               `json:"file"`
				Logs    []blueprint.LogEvent `json:"logs"`
				Success bool                 `json:"success"`
			}{file, res.Logs, res.Success})
		} else {
			printLogs(stdout, *res)
		}
	}
	if *out == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(results) == 1 {
			_ = enc.Encode(results[0])
		} else {
			_ = enc.Encode(results)
		}
	}
	return code
}

// blueprintFiles expands directories into the blueprint files below them.
func blueprintFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		info, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// importFile imports one file; the result is nil when it cannot be read
// or parsed (said on stderr).
func importFile(ctx context.Context, s *store.Store, file string, bf blueprintFlags, dry, strict bool, stderr io.Writer) (*blueprint.Result, int) {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(stderr, "authflow import: %v\n", err)
		return nil, exitError
	}
	defer f.Close()
	bp, err := blueprint.Parse(f, blueprint.Limits{})
	if err != nil {
		fmt.Fprintf(stderr, "authflow import: %s: %v\n", file, err)
		return nil, exitInvalid
	}
	opts := bf.options(filepath.Dir(file))
	opts.DryRun, opts.Strict, opts.FileDir = dry, strict, filepath.Dir(file)
	opts.Progress = func(done, total int) { fmt.Fprintf(stderr, "authflow import: %s: %d/%d entries\n", file, done, total) }
	res, err := blueprint.Apply(ctx, s, bp, opts)
	if err != nil {
		fmt.Fprintf(stderr, "authflow import: %s: %v\n", file, err)
		return nil, exitError
	}
	if !res.Success {
		return &res, exitInvalid
	}
	return &res, exitOK
}

// printLogs writes one line per event: the entry, its action or level,
// and what changed or failed.
func printLogs(w io.Writer, res blueprint.Result) {
	for _, l := range res.Logs {
		where := l.Event // an event of no entry ("context failed")
		if e, ok := l.Attributes["entry"].(map[string]any); ok {
			where = fmt.Sprintf("#%v %v", e["index"], e["model"])
			if id, _ := e["id"].(string); id != "" {
				where += " (" + id + ")"
			}
		}
		what, _ := l.Attributes["action"].(string)
		if what == "" {
			what = l.LogLevel
		}
		detail := ""
		for _, k := range []string{"changes", "errors", "error", "field", "policy", "line", "construct", "message"} {
			if v, ok := l.Attributes[k]; ok {
				b, _ := json.Marshal(v)
				detail += " " + k + "=" + string(b)
			}
		}
		fmt.Fprintf(w, "%-9s %s%s\n", what, where, detail)
	}
	switch {
	case !res.Success:
		fmt.Fprintln(w, "failed: nothing was written")
	case !res.Changed:
		fmt.Fprintln(w, "ok: nothing to change")
	default:
		fmt.Fprintln(w, "ok")
	}
}

// exportCmd writes a flow of a bbolt file as a blueprint: authentik's
// seed-era export, or with -portable one that re-imports anywhere.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer, nb newBackend) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := newSource(fs, nb, "path of the bbolt `file`")
	portable := fs.Bool("portable", false, "identify objects by slug and name, refer with !KeyOf, write secrets as !Env placeholders")
	line := usageLine(nb, "usage: authflow export [-db PATH] [-portable] SLUG")
	if code, ok := parseArgs(fs, args, line, stderr, func() bool { return fs.NArg() == 1 }); !ok {
		return code
	}
	s, err := src.open(ctx, &store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "authflow: %v\n", err)
		return exitError
	}
	defer s.Close()
	var out []byte
	err = s.View(ctx, func(tx *store.Tx) error {
		var err error
		if *portable {
			out, err = blueprint.ExportPortable(tx, fs.Arg(0), time.Now())
		} else {
			out, err = blueprint.Export(tx, fs.Arg(0), time.Now())
		}
		return err
	})
	if err != nil {
		fmt.Fprintf(stderr, "authflow export: %v\n", err)
		if errors.Is(err, store.ErrNotFound) {
			return exitInvalid
		}
		return exitError
	}
	stdout.Write(out)
	return exitOK
}
