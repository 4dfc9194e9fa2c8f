"""A small reader over sqlglot tokens, for the statements Eddy parses by hand (see commands.py)."""

from __future__ import annotations

from typing import Any

from sqlglot.tokens import Token, TokenType

from common.errors import SyntaxError_

_NAME_TYPES_EXCLUDED = frozenset({TokenType.STRING, TokenType.NUMBER, TokenType.L_PAREN, TokenType.R_PAREN,
                                  TokenType.COMMA, TokenType.SEMICOLON, TokenType.STAR, TokenType.DASH,
                                  TokenType.DOT, TokenType.EQ, TokenType.PARAMETER})


class Words:
    """A cursor over tokens; `text` is the source they were read from, to cut nested statements out of."""

    def __init__(self, tokens: list[Token], text: str = "") -> None:
        self._tokens = [t for t in tokens if t.token_type is not TokenType.SEMICOLON]
        self._text = text
        self._pos = 0

    def done(self) -> bool:
        return self._pos >= len(self._tokens)

    def peek(self, offset: int = 0) -> str:
        """The upper-cased text of a token ahead ("" past the end); quoted names and strings never match words."""
        i = self._pos + offset
        if i >= len(self._tokens):
            return ""
        tok = self._tokens[i]
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
            return "\0" + tok.text
        return tok.text.upper()

    def accept(self, *words: str) -> bool:
        """Consume `words` if the next tokens are exactly them."""
        if all(self.peek(i) == w for i, w in enumerate(words)):
            self._pos += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error()

    def error(self) -> SyntaxError_:
        if self.done():
            return SyntaxError_("syntax error at end of input")
        return SyntaxError_(f'syntax error at or near "{self._tokens[self._pos].text}"')

    def next(self) -> Token:
        if self.done():
            raise self.error()
        tok = self._tokens[self._pos]
        self._pos += 1
        return tok

    def name(self) -> str:
        """An identifier: quoted as written, unquoted folded to lower case."""
        if self.done() or self._tokens[self._pos].token_type in _NAME_TYPES_EXCLUDED:
            raise self.error()
        tok = self.next()
        return tok.text if tok.token_type is TokenType.IDENTIFIER else tok.text.lower()

    def qualified_name(self) -> tuple[str | None, str]:
        first = self.name()
        if self.peek() == ".":
            self.next()
            return first, self.name()
        return None, first

    def string(self) -> str:
        if self.done() or self._tokens[self._pos].token_type is not TokenType.STRING:
            raise self.error()
        return self.next().text

    def integer(self) -> int:
        negative = self.accept("-")
        if self.done() or self._tokens[self._pos].token_type is not TokenType.NUMBER:
            raise self.error()
        text = self.next().text
        if not text.isdigit():
            raise SyntaxError_(f'syntax error at or near "{text}"')
        return -int(text) if negative else int(text)

    def is_integer(self) -> bool:
        i = 1 if self.peek() == "-" else 0
        return self.peek(i).isdigit()

    def names_in_parens(self) -> list[str]:
        self.expect("(")
        names = [self.name()]
        while self.accept(","):
            names.append(self.name())
        self.expect(")")
        return names

    def parenthesized_text(self) -> str:
        """The source text inside the parentheses that start here (nesting respected)."""
        self.expect("(")
        start = self._tokens[self._pos].start if not self.done() else len(self._text)
        depth = 1
        while not self.done():
            tok = self.next()
            if tok.token_type is TokenType.L_PAREN:
                depth += 1
            elif tok.token_type is TokenType.R_PAREN:
                depth -= 1
                if depth == 0:
                    return self._text[start:tok.start]
        raise self.error()

    def rest_text(self) -> str:
        """The source text from the next token to the end."""
        if self.done():
            raise self.error()
        return self._text[self._tokens[self._pos].start:].strip().rstrip(";").strip()

    def finish(self) -> None:
        if not self.done():
            raise self.error()


def option_value(words: Words) -> Any:
    """An option's value in COPY's parenthesized list: a string, a word or number, or none (True)."""
    nxt = words.peek()
    if nxt in (",", ")", ""):
        return True
    if nxt == "(":
        return words.names_in_parens()
    if nxt == "*":
        words.next()
        return "*"
    tok = words.next()
    return tok.text if tok.token_type is TokenType.STRING else tok.text.lower()
