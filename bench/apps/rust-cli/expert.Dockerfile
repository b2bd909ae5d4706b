# Expert version: dependencies fetched from the manifests first, the binary on distroless/cc.
FROM rust:1.75 AS build
WORKDIR /usr/src/rust-cli
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release && rm -rf src
COPY src ./src
RUN touch src/main.rs && cargo build --release

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/src/rust-cli/target/release/rust-cli /usr/local/bin/rust-cli
ENTRYPOINT ["rust-cli"]
