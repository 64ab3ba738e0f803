package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// axe-core (npm), the maintained accessibility checker, installed by
// `npm ci` in the directory axe beside this file (.ci/run does it). Check
// runs it in the page, beside the package's own rules.

// axeTags are the axe-core rules Check runs, by tag: WCAG 2.0, 2.1 and
// 2.2 levels A and AA, and axe's best practices.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// axePath is axe-core's script, where npm ci puts it (a variable for the
// tests of a missing axe-core).
var axePath = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "axe", "node_modules", "axe-core", "axe.min.js")
}()

var axeSource struct {
	mu   sync.Mutex
	path string // the file js was read from
	js   string
}

// loadAxe reads axe-core's script (once per path); "" when it is not
// installed.
func loadAxe() (string, error) {
	axeSource.mu.Lock()
	defer axeSource.mu.Unlock()
	if axeSource.path != axePath {
		b, err := os.ReadFile(axePath)
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		axeSource.path, axeSource.js = axePath, string(b)
	}
	return axeSource.js, nil
}

// Axe reports whether [Page.Check] runs axe-core (whether it is
// installed).
func Axe() bool {
	js, err := loadAxe()
	return js != "" && err == nil
}

// axeResult is the part of axe.run's result Check reads.
type axeResult struct {
	Violations []struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []struct {
			Target []any  `json:"target"`
			HTML   string `json:"html"`
		} `json:"nodes"`
	} `json:"violations"`
}

// axeProblems runs axe-core in the page and returns its violations as
// problems whose rule is "axe:" and axe's rule id. Without axe-core it
// returns nothing, or fails the test when RequireEnv is set.
func (p *Page) axeProblems() []Problem {
	p.t.Helper()
	js, err := loadAxe()
	if err != nil {
		p.t.Fatalf("browsertest: reading axe-core: %v", err)
	}
	if js == "" {
		if os.Getenv(RequireEnv) != "" {
			p.t.Fatalf("browsertest: %s is set and axe-core is not installed at %s (npm ci in %s)", RequireEnv, axePath, filepath.Dir(filepath.Dir(filepath.Dir(axePath))))
		}
		return nil
	}
	// axe.run waits on timers, which do not run in a page without
	// JavaScript: it is turned on for the check. The page's own scripts
	// were blocked when it loaded, so none of them is there to run.
	if p.noScript {
		p.scriptDisabled(false)
		defer p.scriptDisabled(true)
	}
	r := Run(p, chromedp.Evaluate[axeResult](`(() => {
		if (!window.axe) { `+js+` }
		return window.axe.run(document, {runOnly: {type: "tag", values: `+jsValue(axeTags)+`}, resultTypes: ["violations"]});
	})()`, chromedp.EvalAwaitPromise))
	var problems []Problem
	for _, v := range r.Violations {
		for _, n := range v.Nodes {
			problems = append(problems, Problem{Rule: "axe:" + v.ID, Element: strings.Trim(fmt.Sprint(n.Target...), "[]"), Detail: v.Help + ": " + n.HTML})
		}
	}
	return problems
}
