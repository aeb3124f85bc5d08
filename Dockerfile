# syntax=docker/dockerfile:1
# audio-socket: the WebSocket server Vonage streams call audio to (README,
# "The audio socket"). Built from the workspace; the image holds one static
# binary on a distroless base and runs as a non-root user.
#
#   docker buildx build --platform linux/arm64 -t audio-socket .

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p audio-socket \
 && mkdir -p /out/spool \
 && cp target/release/audio-socket /out/audio-socket

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/audio-socket /usr/local/bin/audio-socket
# Recordings are spooled here while a call lasts (a volume in the task).
COPY --from=build --chown=65532:65532 /out/spool /spool
USER 65532:65532
ENV AUDIO_HOST=0.0.0.0 \
    AUDIO_PORT=3001 \
    AUDIO_SPOOL_DIR=/spool \
    LOG_FORMAT=json
EXPOSE 3001
# The image has no shell or curl: the binary asks its own /health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/audio-socket", "--health"]
ENTRYPOINT ["/usr/local/bin/audio-socket"]
