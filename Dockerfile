# Multi-stage build: a static binary in a small image, run as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/shelin ./cmd/shelin

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/shelin /usr/local/bin/shelin
COPY --from=build /usr/local/go/lib/time/zoneinfo.zip /usr/local/go/lib/time/zoneinfo.zip
# The sandbox payment provider (simulated money) is off in the image.
ENV ZONEINFO=/usr/local/go/lib/time/zoneinfo.zip \
    SHELIN_ADDR=:8080 \
    SHELIN_SANDBOX=off
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/shelin", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/shelin"]
CMD ["serve", "--migrate"]
