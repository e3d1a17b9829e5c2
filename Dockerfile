# syntax=docker/dockerfile:1
# Builds the ftcost manager (and the ftcost CLI) into a distroless, non-root image:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t ftcost-manager:v0.1.0 .
# (make docker-build does this). The build context has no .git, so without VERSION the binaries say "dev".
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=
WORKDIR /workspace

# Download modules in their own layer, so source edits do not refetch them.
COPY go.mod go.sum ./
RUN go mod download

# The sources (.dockerignore leaves out bin/, .git/, tests and manifests the build does not embed).
COPY . .

# Static binaries: distroless/static has no libc.
ENV CGO_ENABLED=0
RUN LDFLAGS="-s -w -X github.com/ftcost/ftcost/internal/version.Version=${VERSION}" && \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="${LDFLAGS}" -o /out/manager ./cmd/manager && \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="${LDFLAGS}" -o /out/ftcost ./cmd/ftcost

FROM gcr.io/distroless/static:nonroot
ARG VERSION=
LABEL org.opencontainers.image.version=${VERSION} org.opencontainers.image.source=https://github.com/ftcost/ftcost org.opencontainers.image.title=ftcost-manager
WORKDIR /
COPY --from=builder /out/manager /manager
COPY --from=builder /out/ftcost /ftcost
USER 65532:65532
ENTRYPOINT ["/manager"]
