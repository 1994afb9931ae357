"""What an LLM generator is asked: a template per language (Chinese, English: chosen by the passage's script) and
question style, or the user's own (`--prompt FILE`, which must hold `{passage}`; `{n}` is the number of queries).

Styles: `question` (a factual question the passage answers), `keywords` (a short keyword query), `paraphrase` (a
question in other words than the passage's: lexical copying inflates BM25). Every template asks for JSON only,
`{"queries": [...]}`, which `synth.parse` reads strictly. The passage goes between <passage> tags.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from embedlab.errors import DataError, UnknownNameError
from embedlab.models.bm25_tokenizers import resolve

PLACEHOLDER = "{passage}"
COUNT = "{n}"
STYLES = ("question", "keywords", "paraphrase")
LANGUAGES = ("zh", "en")

_ASK = {
    "en": {
        "question": "write exactly {n} question(s) that a user of a search engine might type and that this passage "
                    "answers. Each must be answerable from the passage alone and make sense without seeing it (never "
                    "\"this passage\" or \"the text\").",
        "keywords": "write exactly {n} short keyword search query(ies), 2 to 5 words each, not a full question, that "
                    "a user looking for this passage might type.",
        "paraphrase": "write exactly {n} question(s) that this passage answers, in your own words: avoid the "
                      "passage's distinctive words and phrases (use synonyms or descriptions instead). Each must make "
                      "sense without seeing the passage.",
    },
    "zh": {
        "question": "写出恰好 {n} 个搜索引擎用户可能输入、且这段文字能回答的问题。每个问题只凭这段文字就能回答，不看原文也能读懂"
                    "（不要说“这段文字”“本文”）。",
        "keywords": "写出恰好 {n} 个简短的关键词检索式，每个 2 到 5 个词，不要写成完整的问句，是想找这段文字的用户可能输入的。",
        "paraphrase": "写出恰好 {n} 个这段文字能回答的问题，用你自己的话：避免使用原文中有特色的词语和说法（改用同义词或描述）。"
                      "不看原文也能读懂每个问题。",
    },
}
_FRAME = {
    "en": "Read the passage below and {ask}\n\n<passage>\n{passage}\n</passage>\n\n"
          "Answer with a JSON object only, no other text: {\"queries\": [\"...\"]}",
    "zh": "阅读下面这段文字，{ask}\n\n<passage>\n{passage}\n</passage>\n\n"
          "只用一个 JSON 对象回答，不要其他文字：{\"queries\": [\"...\"]}",
}


@dataclass(frozen=True)
class Template:
    language: str  # zh | en | custom (the user's file, whatever the passage's script)
    style: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def render(self, passage: str, n: int) -> str:
        # replace, not str.format: a prompt holds JSON braces
        return self.text.replace(COUNT, str(n)).replace(PLACEHOLDER, passage)

    def as_dict(self) -> dict[str, str]:
        return {"language": self.language, "style": self.style, "sha256": self.sha256, "text": self.text}


def builtin(language: str, style: str) -> Template:
    if style not in STYLES:
        raise UnknownNameError("question style", style, STYLES)
    frame = _FRAME[language].replace("{ask}", _ASK[language][style])
    return Template(language, style, frame)


def read_prompt(path: str | Path) -> Template:
    """The user's template: UTF-8 text holding {passage} (the passage goes there) and optionally {n}."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid UTF-8 (byte {exc.start})", path=path, hint="re-save the file as UTF-8") from None
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror})", path=path) from None
    if PLACEHOLDER not in text:
        raise DataError(f"the prompt has no {PLACEHOLDER} placeholder", path=path,
                        hint=f"write {PLACEHOLDER} where the passage goes (and {COUNT} for the number of queries)")
    return Template("custom", "custom", text)


def language_of(text: str) -> str:
    """zh when Han characters are at least 30% of the word characters (the rule BM25's `auto` tokenizer uses), else
    en (any other script gets the English template)."""
    return "zh" if resolve("auto", [text]) == "char" else "en"


def choose(passage_text: str, style: str, *, language: str = "auto", custom: Template | None = None) -> Template:
    """The template a passage gets: the user's, or the built-in one of its language (or the one forced)."""
    if custom is not None:
        return custom
    return builtin(language_of(passage_text) if language == "auto" else language, style)
