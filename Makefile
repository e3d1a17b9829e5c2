# ftcost: a Kubernetes-native pricing operator for fine-tuning versus API costs.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
ENVTEST_ASSETS ?= $(LOCALBIN)/controlplane
GO_TEST_FLAGS ?=
# The version stamped into both binaries; without a tag, git describe gives the abbreviated commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS ?= -X github.com/ftcost/ftcost/internal/version.Version=$(VERSION)
# The manager image. Empty: config/manager's images: entry (the release tag the chart's appVersion names).
IMG ?=

.PHONY: all
all: build

##@ General
.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
.PHONY: generate
generate: controller-gen ## Generate deepcopy code from the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: controller-gen ## Generate CRDs (and RBAC from controller markers, split by feature) into config/.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths="./internal/controller/...;./internal/manager/..." output:rbac:artifacts:config=config/rbac
	go run ./hack/gendist -rbac

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: chart
chart: manifests ## Generate the Helm chart dist/chart from config/.
	go run ./hack/gendist -chart dist/chart

.PHONY: build-installer
build-installer: manifests ## Write dist/install.yaml (config/default as one file; IMG overrides the image).
	go run ./hack/gendist -installer dist/install.yaml -image "$(IMG)"

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml: govet, staticcheck, unused, errcheck, ineffassign, misspell, gofmt).
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...

.PHONY: verify
verify: generate manifests chart build-installer lint ## Fail on generated-file drift (CRDs, RBAC, deepcopy, chart, install.yaml), gofmt, go vet or lint findings.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	go vet ./...
	go mod tidy -diff
	@if [ -n "$$(git status --porcelain -- api config dist go.mod go.sum)" ]; then \
		echo "generated files are out of date; run 'make generate manifests chart build-installer' and commit:"; \
		git status --porcelain -- api config dist go.mod go.sum; git diff --stat -- api config dist; exit 1; fi
	@echo "verify: clean"

.PHONY: test
test: generate manifests controlplane lint ko ## Run all tests (engine, CLI, and envtest suites on a real kube-apiserver), after the linters.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./... -count=1

.PHONY: test-fuzz
test-fuzz: ## Fuzz the engine and the budget ledger for a while (FUZZTIME each, default 30s).
	go test ./engine -run '^$$' -fuzz '^FuzzEstimate$$' -fuzztime $${FUZZTIME:-30s}
	go test ./engine -run '^$$' -fuzz '^FuzzCatalogFigures$$' -fuzztime $${FUZZTIME:-30s}
	go test ./engine -run '^$$' -fuzz '^FuzzJob$$' -fuzztime $${FUZZTIME:-30s}
	go test ./internal/budget -run '^$$' -fuzz '^FuzzLedger$$' -fuzztime $${FUZZTIME:-30s}

N ?= 1000
ROUNDS ?= 5
FLAGS ?=
MANAGER_ENV ?=
BENCH_DIR ?= $(LOCALBIN)/bench
.PHONY: bench
bench: bench-engine bench-operator ## Run the benchmarks: engine, CLI, and the operator at scale.

.PHONY: bench-engine
bench-engine: ## Benchmark the engine, and the CLI on 10,000 estimates.
	go test ./engine ./internal/cli -run '^$$' -bench . -benchmem

.PHONY: bench-operator
bench-operator: manifests controlplane ## The operator against a plain client on the local control plane (N=1000 ROUNDS=5 MANAGER_ENV="GOGC=..." FLAGS="--kube-api-qps=..."): docs/benchmarks.md.
	FTCOST_BENCH=1 N=$(N) ROUNDS=$(ROUNDS) FLAGS="$(FLAGS)" MANAGER_ENV="$(MANAGER_ENV)" BENCH_DIR=$(BENCH_DIR) KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" \
		go test ./test/scale -run '^TestBench$$' -count=1 -v -timeout 0
	go tool pprof -top -nodecount=30 $(BENCH_DIR)/manager $(BENCH_DIR)/manager-cpu.pprof | head -40

##@ Run
ARGS ?=
.PHONY: demo
demo: manifests controlplane ## Run ftcost on an embedded control plane, apply the samples, print `kubectl get fte -o wide` (ARGS=--flag=... to the manager).
	hack/demo.sh $(ARGS)

.PHONY: demo-stop
demo-stop: ## Stop the control plane that `make demo` left running.
	hack/demo.sh stop

.PHONY: run-local
run-local: manifests controlplane ## Run etcd, kube-apiserver and the manager locally until interrupted (kubeconfig: bin/local/kubeconfig).
	go run ./cmd/local

.PHONY: run
run: manifests ## Run the manager against the cluster of the current kubeconfig.
	go run ./cmd/manager --metrics-bind-address=127.0.0.1:8080 --metrics-secure=false --health-probe-bind-address=127.0.0.1:8081

.PHONY: install
install: manifests ## Install the CRDs and the default PriceCatalog into the current cluster.
	kubectl apply -k config/crd
	kubectl wait --for=condition=Established --timeout=60s crd/finetuneestimates.ftcost.io crd/pricecatalogs.ftcost.io crd/costpolicies.ftcost.io
	kubectl apply -k config/catalog

.PHONY: uninstall
uninstall: ## Remove the CRDs (and with them every FineTuneEstimate and PriceCatalog) from the current cluster.
	kubectl delete -k config/crd --ignore-not-found

##@ Build
.PHONY: build
build: generate ## Build the manager and the ftcost CLI into bin/.
	go build -ldflags "$(LDFLAGS)" -o $(LOCALBIN)/manager ./cmd/manager
	go build -ldflags "$(LDFLAGS)" -o $(LOCALBIN)/ftcost ./cmd/ftcost

.PHONY: docker-build
docker-build: ## Build the manager image IMG (default ftcost-manager:VERSION) with VERSION stamped in; needs Docker.
	docker build --build-arg VERSION=$(VERSION) -t $(or $(IMG),ftcost-manager:$(VERSION)) .

.PHONY: image
image: ko ## Build the manager's OCI image with ko, no Docker or registry: bin/image (OCI layout) and bin/ftcost-manager.tar.
	KO=$(KO) VERSION=$(VERSION) hack/image.sh

.PHONY: print-ko
print-ko: ## Print the path of the ko binary make image uses.
	@echo '$(KO)'

.PHONY: print-ldflags
print-ldflags: ## Print the -ldflags the build stamps the version with.
	@echo '$(LDFLAGS)'

.PHONY: plugin
plugin: ## Build the kubectl plugin bin/kubectl-ftcost and its completion bin/kubectl_complete-ftcost (kubectl >= 1.26); put bin/ on PATH.
	go build -ldflags "$(LDFLAGS)" -o $(LOCALBIN)/kubectl-ftcost ./cmd/ftcost
	ln -f $(LOCALBIN)/kubectl-ftcost $(LOCALBIN)/kubectl_complete-ftcost

DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
.PHONY: dist
dist: ## Build the release archives dist/kubectl-ftcost_OS_ARCH.tar.gz that dist/ftcost.yaml (krew) points at.
	@for p in $(DIST_PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; d=$$(mktemp -d); \
		echo "building kubectl-ftcost for $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -o $$d/kubectl-ftcost ./cmd/ftcost; \
		tar -C $$d -czf dist/kubectl-ftcost_$${os}_$${arch}.tar.gz kubectl-ftcost; rm -rf $$d; \
		sha256sum dist/kubectl-ftcost_$${os}_$${arch}.tar.gz; done

##@ Tools
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/ (from the Go module proxy).
$(CONTROLLER_GEN): | $(LOCALBIN)
	@echo "installing controller-gen $(CONTROLLER_TOOLS_VERSION) into $(LOCALBIN)"
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $(CONTROLLER_GEN)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/ (built from the Go module proxy).
$(GOLANGCI_LINT): | $(LOCALBIN)
	@echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(LOCALBIN) (a few minutes, once)"
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)

KO_VERSION ?= v0.18.0
KO ?= $(LOCALBIN)/ko-$(KO_VERSION)
.PHONY: ko
ko: $(KO) ## Install ko into bin/ (from the Go module proxy).
$(KO): | $(LOCALBIN)
	@echo "installing ko $(KO_VERSION) into $(LOCALBIN)"
	GOBIN=$(LOCALBIN) GOFLAGS=-mod=mod go install github.com/google/ko@$(KO_VERSION)
	mv $(LOCALBIN)/ko $(KO)

.PHONY: controlplane
controlplane: ## Build kube-apiserver and etcd from the Go module proxy into bin/controlplane (once).
	hack/build-controlplane.sh
