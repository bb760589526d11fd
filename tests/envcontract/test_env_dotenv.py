"""The dotenv parser: the syntax loaders agree on, and line numbers for what it cannot read."""

from phoenix_ops.project.dotenv import parse_dotenv, read_env_file


def values(text: str) -> dict:
    entries, errors = parse_dotenv(text)
    assert errors == []
    return {e.key: e.value for e in entries}


def test_plain_export_comments_and_blank_lines():
    text = "# a comment\n\nexport PORT=4000\nHOST = example.com   # trailing comment\nEMPTY=\nHASH=a#b\n"
    assert values(text) == {"PORT": "4000", "HOST": "example.com", "EMPTY": "", "HASH": "a#b"}


def test_single_quotes_are_literal_and_double_quotes_unescape():
    text = "RAW='a\\nb $HOME # not a comment'\nESC=\"tab\\there \\\"q\\\" back\\\\slash\"  # comment\n"
    assert values(text) == {"RAW": "a\\nb $HOME # not a comment", "ESC": 'tab\there "q" back\\slash'}


def test_multi_line_double_quoted_value_keeps_its_line_number():
    entries, errors = parse_dotenv('A=1\nKEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nB=2\n')
    assert errors == []
    assert [(e.key, e.line) for e in entries] == [("A", 1), ("KEY", 2), ("B", 5)]
    assert entries[1].value == "-----BEGIN KEY-----\nabc\n-----END KEY-----"


def test_malformed_lines_are_reported_by_number_and_parsing_goes_on():
    entries, errors = parse_dotenv('GOOD=1\nthis is not an assignment\nQ="x" trailing\nLAST=2\n')
    assert [e.key for e in entries] == ["GOOD", "LAST"]
    assert [(e.line, e.reason) for e in errors] == [(2, "not a KEY=value assignment"),
                                                   (3, "text after the closing quote")]


def test_unclosed_quote_is_reported_at_its_line_and_does_not_swallow_the_file():
    entries, errors = parse_dotenv("A='open\nB=2\nC=3\n")
    assert [(e.line, e.reason) for e in errors] == [(1, "the single quote is never closed")]
    assert [e.key for e in entries] == ["B", "C"]


def test_a_quote_closed_lines_later_by_another_value_is_pointed_out():
    _, errors = parse_dotenv('A="open\nB=2\nC="x" y\n')
    assert errors[0].line == 1 and "closed only on line 3" in errors[0].reason


def test_bare_key_comes_from_the_environment_and_expansions_are_flagged():
    entries, _ = parse_dotenv('INHERITED\nURL="${BASE}/x"\nLIT=\'${BASE}\'\nCORES=$(nproc)\n')
    inherited, url, lit, cores = entries
    assert inherited.value is None and not inherited.checkable
    assert url.expands and not url.checkable and cores.expands
    assert not lit.expands and lit.checkable


def test_shell_keywords_alone_on_a_line_are_not_variables():
    entries, errors = parse_dotenv("if true; then\n  A=1\nfi\n")
    assert [e.key for e in entries] == ["A"]
    assert [e.line for e in errors] == [1, 3]


def test_crlf_and_bom(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes("\ufeffA=1\r\nB=\"x\r\ny\"\r\n".encode())
    entries, errors = read_env_file(path)
    assert errors == [] and [(e.key, e.value, e.file) for e in entries] == [("A", "1", str(path)),
                                                                            ("B", "x\ny", str(path))]
