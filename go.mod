module github.com/authflow/authflow

go 1.24

require (
	github.com/google/uuid v1.6.0
	github.com/invopop/validation v0.8.0
	go.etcd.io/bbolt v1.4.3
)

require golang.org/x/sys v0.29.0 // indirect
