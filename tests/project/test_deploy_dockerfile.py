from phoenix_ops.project.deploy.dockerfile import command_words, read_dockerfile

DOCKERFILE = """
ARG ELIXIR_VERSION=1.17.3
ARG BUILDER_IMAGE="hexpm/elixir:${ELIXIR_VERSION}"
FROM ${BUILDER_IMAGE} as builder
ARG SELF_HOSTED
ENV MIX_ENV="prod" \\
    RELEASE_VERSION=${RELEASE_VERSION}
ENV LANG C.UTF-8
RUN --mount=type=secret,id=hex_key HEX_KEY=$(cat /run/secrets/hex_key) mix deps.get --only $MIX_ENV
RUN <<EOF
set -e
mix compile
EOF
RUN mix release

FROM debian:bookworm-slim
COPY --from=builder /app/_build/prod/rel/demo ./
USER nobody
CMD /app/bin/server
"""


def test_arg_and_env_names():
    assert read_dockerfile("Dockerfile", DOCKERFILE).declared() == {
        "ELIXIR_VERSION", "BUILDER_IMAGE", "SELF_HOSTED", "MIX_ENV", "RELEASE_VERSION", "LANG"}


def test_stages_with_args_resolved_heredocs_and_mounts():
    d = read_dockerfile("Dockerfile", DOCKERFILE)
    builder, runner = d.stages
    assert (builder.name, builder.image, builder.raw_image, builder.line) == (
        "builder", "hexpm/elixir:1.17.3", "${BUILDER_IMAGE}", 4)
    assert builder.env["MIX_ENV"] == ("prod", 6) and builder.env["LANG"] == ("C.UTF-8", 8)
    runs = builder.all("RUN")
    assert runs[0].flags == ("--mount=type=secret,id=hex_key",) and "deps.get" in runs[0].script
    assert "mix compile" in runs[1].script and runs[1].line == 10 and runs[2].line == 14
    assert runner.user == "nobody" and runner.image == "debian:bookworm-slim"
    cmd = runner.last("CMD")
    assert not cmd.exec_form and command_words(cmd) == ["/app/bin/server"]


def test_unterminated_heredoc_is_a_parse_error():
    assert "heredoc" in read_dockerfile("Dockerfile", "FROM x\nRUN <<EOF\nfoo\n").error
