"""Which files of a new release a host holding an earlier one is sent, and which are linked there."""

import hashlib

from phoenix_ops.deploy.upload import manifest, plan_reuse
from phoenix_ops.release.artifact import Contents, File


def release(version: str, files: dict[str, tuple[bytes, int]]) -> Contents:
    return Contents("shop", version, tuple(File(path, hashlib.sha256(data).hexdigest(), mode, len(data))
                                           for path, (data, mode) in files.items()), (), True)


OLD = release("0.1.0", {"bin/shop": (b"#!/bin/sh", 0o755), "lib/shop-0.1.0/ebin/shop.beam": (b"beam", 0o644),
                        "lib/shop-0.1.0/priv/static/app.css": (b"css", 0o644), "lib/jason-1.4/ebin/jason.beam":
                        (b"jason", 0o644), "releases/0.1.0/vm.args": (b"-heart", 0o644)})


def test_same_content_is_linked_by_pair_of_directories_and_the_rest_sent():
    new = release("0.2.0", {"bin/shop": (b"#!/bin/sh", 0o644),  # its mode changed
                            "lib/shop-0.2.0/ebin/shop.beam": (b"beam v2", 0o644),
                            "lib/shop-0.2.0/priv/static/app.css": (b"css", 0o644),
                            "lib/jason-1.4/ebin/jason.beam": (b"jason", 0o644),
                            "releases/0.2.0/vm.args": (b"-heart", 0o644),
                            "releases/0.2.0/empty": (b"", 0o644),
                            "lib/shop-0.2.0/priv/static/site.css": (b"css", 0o644)})  # same content, other name
    reuse = plan_reuse(new, "0.1.0", manifest(OLD))
    assert reuse.links == {("lib/shop-0.1.0", "lib/shop-0.2.0"): ["priv/static/app.css"],
                           ("", ""): ["lib/jason-1.4/ebin/jason.beam"],
                           ("releases/0.1.0", "releases/0.2.0"): ["vm.args"]}
    assert sorted(f.path for f in reuse.sent) == ["bin/shop", "lib/shop-0.2.0/ebin/shop.beam",
                                                  "lib/shop-0.2.0/priv/static/site.css", "releases/0.2.0/empty"]
    assert len(reuse.reused) == 3


def test_lines_of_a_damaged_manifest_are_not_trusted():
    damaged = manifest(OLD).replace(" 755 ", " 7x5 ") + "garbage\n\n" + "a" * 64 + " 644\n"
    reuse = plan_reuse(OLD, "0.1.0", damaged)
    assert [f.path for f in reuse.sent] == ["bin/shop"] and len(reuse.reused) == 4
