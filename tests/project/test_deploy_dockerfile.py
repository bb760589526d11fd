from phoenix_ops.project.deploy.dockerfile import declared_variables

DOCKERFILE = """
ARG ELIXIR_VERSION=1.17.3
ARG BUILDER_IMAGE="hexpm/elixir:${ELIXIR_VERSION}"
FROM ${BUILDER_IMAGE} as builder
ARG SELF_HOSTED
ENV MIX_ENV="prod" \\
    RELEASE_VERSION=${RELEASE_VERSION}
ENV LANG C.UTF-8
RUN mix release
"""


def test_arg_and_env_names():
    assert declared_variables(DOCKERFILE) == {"ELIXIR_VERSION", "BUILDER_IMAGE", "SELF_HOSTED", "MIX_ENV",
                                              "RELEASE_VERSION", "LANG"}
