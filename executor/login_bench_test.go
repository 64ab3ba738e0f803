package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authflow/authflow/blueprint"
	"github.com/authflow/authflow/directory"
	"github.com/authflow/authflow/expression"
	"github.com/authflow/authflow/plan"
	"github.com/authflow/authflow/policy"
	"github.com/authflow/authflow/store"
)

// BenchmarkLogin measures a complete login through the Go API, on the
// shipped default-authentication-flow (identification, password, MFA
// with no devices, user_login; its policies with package expression),
// with the store's default password hasher (Django's pbkdf2_sha256,
// 870,000 iterations), beside one password check of the same user
// (store.Store.CheckPassword), at 1,000 and 100,000 users:
//
//	go test ./executor -run '^$' -bench BenchmarkLogin -benchtime 20x
//
// Each op is a login then a check; the metrics split it: login-ns/op,
// check-ns/op, their ratio login/check, and overhead-ns/op, what a login
// costs beyond one check (its own check included in the login).
func BenchmarkLogin(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			ctx := context.Background()
			s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := &harness{t: b, s: s}
			loadDefaults(b, h, false)
			const chunk = 5000
			for lo := 0; lo < n; lo += chunk {
				err := s.Update(ctx, func(tx *store.Tx) error {
					for i := lo; i < min(lo+chunk, n); i++ {
						u := directory.DefaultUser()
						u.Username, u.Email = "user"+strconv.Itoa(i), "user"+strconv.Itoa(i)+"@example.com"
						if _, err := store.Users.Create(tx, u, nil); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			target := n / 2
			u, err := s.Directory().FindUser(ctx, directory.Find{Identifier: "user" + strconv.Itoa(target), Fields: []directory.Field{directory.FieldUsername}})
			if err != nil {
				b.Fatal(err)
			}
			const secret = "correct horse battery staple"
			if err := s.SetPassword(ctx, u.PK, ptr(secret)); err != nil {
				b.Fatal(err)
			}
			evs := plan.Builtin(nil)
			evs[policy.ModelExpression] = expression.Evaluator(nil)
			e, err := New(s, Options{Plan: plan.Options{Evaluators: evs}})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			uid, _ := json.Marshal(map[string]any{"component": ComponentIdentification, "uid_field": u.Email})
			pw, _ := json.Marshal(map[string]any{"component": ComponentPassword, "password": secret})
			const slug = "default-authentication-flow"
			// Logins and checks alternate in one loop, so that the load of
			// a shared machine weighs on both alike.
			var loginT, checkT time.Duration
			n := 0
			for ; b.Loop(); n++ {
				t0 := time.Now()
				req := Request{Session: "bench-" + strconv.Itoa(n)}
				if _, err := e.Get(ctx, slug, req); err != nil {
					b.Fatal(err)
				}
				if _, err := e.Submit(ctx, slug, req, uid); err != nil {
					b.Fatal(err)
				}
				if r, err := e.Get(ctx, slug, req); err != nil || r.Challenge == nil {
					b.Fatal(r, err)
				}
				if _, err := e.Submit(ctx, slug, req, pw); err != nil {
					b.Fatal(err)
				}
				var resp Response
				for range 5 {
					if resp, err = e.Get(ctx, slug, req); err != nil || !resp.Reload {
						break
					}
				}
				if err != nil || resp.Login == nil {
					b.Fatalf("no login: %+v %v", resp, err)
				}
				t1 := time.Now()
				if ok, err := s.CheckPassword(ctx, u.PK, secret); !ok || err != nil {
					b.Fatal(ok, err)
				}
				loginT += t1.Sub(t0)
				checkT += time.Since(t1)
			}
			b.ReportMetric(float64(loginT.Nanoseconds())/float64(n), "login-ns/op")
			b.ReportMetric(float64(checkT.Nanoseconds())/float64(n), "check-ns/op")
			b.ReportMetric(float64(loginT)/float64(checkT), "login/check")
			b.ReportMetric(float64((loginT-checkT).Nanoseconds())/float64(n), "overhead-ns/op")
		})
	}
}

// BenchmarkEnumeration compares, with the store's default password
// hasher, the answer of an identification stage with an embedded
// password stage to an unknown identifier and to a known one with a
// wrong password (the same challenge), alternating in one loop:
//
//	go test ./executor -run '^$' -bench BenchmarkEnumeration -benchtime 20x
//
// unknown/known near 1 means timing does not tell them apart.
func BenchmarkEnumeration(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "b.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := &harness{t: b, s: s}
	doc := identFlow("authentication", ", pretend_user_exists: true, password_stage: !KeyOf pw")
	if _, err := blueprint.Load(ctx, s, strings.NewReader(doc), blueprint.Options{}); err != nil {
		b.Fatal(err)
	}
	h.userWith("akadmin", "admin@example.com", ptr("right"), true)
	e, err := New(s, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	known, _ := json.Marshal(map[string]any{"uid_field": "admin@example.com", "password": "wrong"})
	unknown, _ := json.Marshal(map[string]any{"uid_field": "nobody@example.com", "password": "wrong"})
	req := Request{Session: "bench"}
	if _, err := e.Get(ctx, "f", req); err != nil {
		b.Fatal(err)
	}
	var knownT, unknownT time.Duration
	n := 0
	for ; b.Loop(); n++ {
		t0 := time.Now()
		if _, err := e.Submit(ctx, "f", req, known); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := e.Submit(ctx, "f", req, unknown); err != nil {
			b.Fatal(err)
		}
		knownT += t1.Sub(t0)
		unknownT += time.Since(t1)
	}
	b.ReportMetric(float64(knownT.Nanoseconds())/float64(n), "known-ns/op")
	b.ReportMetric(float64(unknownT.Nanoseconds())/float64(n), "unknown-ns/op")
	b.ReportMetric(float64(unknownT)/float64(knownT), "unknown/known")
}
