"""Reading articles from every supported format, and rejecting bad input clearly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.documents import content_id
from assistant.errors import InputError
from assistant.readers import find_files, read_file, read_paths


def test_seed_article_metadata_from_front_matter() -> None:
    from conftest import SEED

    result = read_file(SEED)
    assert not result.rejected
    (article,) = result.articles
    assert article.title == "US reduces troop numbers in Iraq to 2,500: Pentagon"
    assert article.source == "Rudaw"
    assert article.published == date(2021, 1, 15)  # from its front matter
    assert article.extra["dateline"] == "Erbil, Kurdistan Region"
    assert article.text.startswith("ERBIL, Kurdistan Region")
    assert "2,500" in article.text
    assert article.id == content_id(article.title, article.text)


def test_txt_first_line_is_title(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("\n  Ad sales boost Time Warner profit\n\nQuarterly profits jumped 76%.\n")
    (article,) = read_file(path).articles
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.text == "Quarterly profits jumped 76%."
    assert article.url == "" and article.published is None


def test_markdown_heading_title_and_front_matter_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(
        "---\ndate: 2021-03-04\nsource: Reuters\nurl: https://x.test/a\nauthor: A. B, C. D\n"
        "topic: energy\n---\n# Oil prices climb\n\nBrent crude rose 3% on Thursday.\n"
    )
    (article,) = read_file(path).articles
    assert article.title == "Oil prices climb"
    assert article.published == date(2021, 3, 4)
    assert (article.source, article.url, article.id) == ("Reuters", "https://x.test/a",
                                                         "https://x.test/a")
    assert article.authors == ["A. B", "C. D"]
    assert article.extra == {"topic": "energy"}


def test_jsonl_fields_and_unknown_fields_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [
        {"title": "T1", "text": "Body one.", "published": "2022-06-12", "source": "cnn.com",
         "url": "https://cnn.test/1", "authors": ["X"], "id": "abc", "score": 3},
        {"title": None, "body": "Headline from text\nMore.", "published_at": "2022-06-13T08:00Z",
         "url": "https://www.usatoday.test/2"},
        {"headline": "T3", "text": "Body three.", "date": "Tue, 14 Jun 2022 10:00:00 GMT"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    result = read_file(path)
    assert not result.rejected
    a1, a2, a3 = result.articles
    assert a1.extra == {"id": "abc", "score": 3} and a1.authors == ["X"]
    assert a2.title == "Headline from text" and a2.published == date(2022, 6, 13)
    assert a2.source == "usatoday.test"  # derived from the url when absent
    assert a3.title == "T3" and a3.published == date(2022, 6, 14)
    assert a1.origin.endswith("a.jsonl:1") and a3.origin.endswith("a.jsonl:3")


def test_json_array_and_single_object(tmp_path: Path) -> None:
    (tmp_path / "many.json").write_text(json.dumps([{"title": "A", "text": "x y"},
                                                    {"title": "B", "text": "z"}]))
    (tmp_path / "one.json").write_text(json.dumps({"title": "C", "text": "w"}))
    assert [a.title for a in read_file(tmp_path / "many.json").articles] == ["A", "B"]
    assert [a.title for a in read_file(tmp_path / "one.json").articles] == ["C"]


def test_html_main_text_title_and_date(small_corpus: Path) -> None:
    (article,) = read_file(small_corpus / "page.html").articles
    assert article.title == "Marathon record falls in Berlin"
    assert article.published == date(2022, 9, 25)
    assert "Kipchoge" in article.text
    assert "Copyright" not in article.text and "Home | News" not in article.text


def test_unreadable_date_is_kept_as_metadata_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"title": "T", "text": "x", "date": "sometime soon"}))
    result = read_file(path)
    (article,) = result.articles
    assert article.published is None and article.extra["published_raw"] == "sometime soon"
    assert "unreadable date" in result.warnings[0].reason


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"   \n\n", "empty file"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary file"),
        ("latin1.txt", "Title\n\nIt cost £5.".encode("latin-1"), "not UTF-8"),
        ("titleonly.md", b"# Just a title\n", "no article text"),
        ("badfront.md", b"---\ntitle: [unclosed\n---\nBody\n", "invalid YAML front matter"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_file(path)
    assert result.articles == []
    (rejection,) = result.rejected
    assert rejection.path == str(path)
    assert reason in rejection.reason


def test_non_utf8_decoded_with_configured_fallback(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Title\n\nIt cost £5.".encode("latin-1"))
    result = read_file(path, fallback_encoding="cp1252")
    assert result.articles[0].text == "It cost £5."
    assert "decoded as cp1252" in result.warnings[0].reason


def test_jsonl_bad_lines_reported_with_line_numbers_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"title": "Good", "text": "Fine text."}\n'
        '{"title": "Broken", "text": \n'
        '{"title": "No text"}\n'
        '["not", "an", "object"]\n'
        '\n'
        '{"title": "Also good", "text": "More text."}\n'
    )
    result = read_file(path)
    assert [a.title for a in result.articles] == ["Good", "Also good"]
    reasons = {r.line: r.reason for r in result.rejected}
    assert set(reasons) == {2, 3, 4}
    assert "malformed JSON" in reasons[2]
    assert "no article text" in reasons[3]
    assert "expected a JSON object" in reasons[4]
    assert str(result.rejected[0]).startswith(f"{path}:2: ")


def test_folder_walk_skips_hidden_readme_and_unknown_types(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("B\n\nb")
    (tmp_path / "a.TXT").write_text("A\n\na")
    (tmp_path / ".hidden.txt").write_text("H\n\nh")
    (tmp_path / "README.TXT").write_text("About this folder\n\nnot news")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert [p.name for p in find_files(tmp_path) if isinstance(p, Path)] == ["a.TXT", "b.txt"]
    titles = [a.title for r in read_paths([tmp_path]) for a in r.articles]
    assert titles == ["A", "B"]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        list(find_files(tmp_path / "nope"))
