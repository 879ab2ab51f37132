# Builds the hashmarket server. Two stages: compile with the Rust toolchain, run on a
# slim Debian with only the binary (SQLite is bundled; TLS for SMTP is rustls).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin hashmarket

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/hashmarket hashmarket
COPY --from=build /src/target/release/hashmarket /usr/local/bin/hashmarket
USER hashmarket
WORKDIR /var/lib/hashmarket
ENV HASHMARKET_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["hashmarket"]
CMD ["serve"]
