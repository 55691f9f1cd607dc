# The worker image: `backfill` as a static (musl) binary on a distroless base, run by the ECS task of
# `engine: backfill` with the command `worker --log-format json` (the entrypoint is the binary).
#
#   docker build -t backfill:latest .
#   docker run --rm -v "$PWD/migration.yaml:/migration.yaml" backfill:latest -c /migration.yaml worker
#
# Build stage: the pinned toolchain, the musl target, the C toolchain aws-lc (rustls' crypto) needs, and the
# assembler and autotools ISA-L (the gzip of request bodies) is built with.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake clang nasm autoconf automake libtool make \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
COPY dashboards ./dashboards
COPY benches ./benches
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bin backfill \
 && cp target/x86_64-unknown-linux-musl/release/backfill /backfill

# Run stage: no shell, no package manager; CA certificates and a non-root user come with the base.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /backfill /usr/local/bin/backfill
ENTRYPOINT ["/usr/local/bin/backfill"]
CMD ["worker", "--log-format", "json"]
