module github.com/kycsim/kycsim

go 1.26.0

// Direct dependencies, each for the job it does best:
require (
	// HDR latency histograms for kycsim load: fixed memory whatever the run's length.
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	// OpenAPI 3.1 documents for spec export and openapi3filter checks of whole callback requests.
	github.com/getkin/kin-openapi v0.152.0
	// Routing by path variable and method: the reference receiver, the vendor API mock, the sandbox.
	github.com/gorilla/mux v1.8.1
	// PostgreSQL for the sandbox's shared store: native protocol, batches run as one
	// transaction, a connection pool; several replicas on one database.
	github.com/jackc/pgx/v5 v5.13.0
	// JUnit XML for conformance reports, in the schema CI systems read.
	github.com/jstemmer/go-junit-report/v2 v2.1.0
	// Prometheus metrics in the text format Prometheus scrapes: the sandbox's /metrics.
	github.com/prometheus/client_golang v1.25.0
	// Draft-07 validation with format assertion: the authority on every payload verdict.
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1
	// YAML with node positions: field tables, AsyncAPI documents, scenarios (file:line:col errors).
	gopkg.in/yaml.v3 v3.0.1
	// Embedded SQLite in pure Go (no C toolchain for `go run`): the sandbox's store and outbox.
	modernc.org/sqlite v1.62.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/oasdiff/yaml v0.1.1 // indirect
	github.com/oasdiff/yaml3 v0.0.14 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
