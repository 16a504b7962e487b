"""Typeset the equations of the known mistakes' explanations for the book's common-mistakes page.

The known mistakes' explanations write their equations as plain text, because a
check's message is plain text (`h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`).
The book's common-mistakes page typesets them: `typeset` finds each equation in a text
(a symbol, `=`, then symbols, numbers and operators up to the end of the clause) and
writes it as `$...$` LaTeX; everything else stays as it is. A stretch it cannot read as
an equation whole is left as text, never half-converted.
"""
from __future__ import annotations

import re

GREEK = {"alpha": r"\alpha", "beta": r"\beta", "gamma": r"\gamma", "lambda": r"\lambda", "mu": r"\mu",
         "tau": r"\tau", "eta": r"\eta", "theta": r"\theta", "eps": r"\epsilon", "sigma": r"\sigma"}
FUNCTIONS = {"tanh": r"\tanh", "sigmoid": r"\sigma", "exp": r"\exp", "max": r"\max", "min": r"\min",
             "sqrt": r"\operatorname{sqrt}"}
NAMES = {"candidate"}  # words the explanations use as a symbol
# A symbol: a name with subscripts (_t, _ih, _{t-1}, _(t-1)) and a power (^T, ^2, ^t).
SYMBOL = re.compile(r"(?:ŷ|[A-Za-z][A-Za-z0-9]*)~?(?:_(?:\{[^{}\s]*\}|\([^()\s]*\)|[A-Za-z0-9]+))*"
                    r"(?:\^(?:T|\d+|[a-z]|\{[^{}]*\}))?")
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")
OPERATOR = re.compile(r"<-|[-+*/⊙]")
POWER = re.compile(r"\^(?:\d+|[a-z])")  # of a bracket: (...)^2
OPEN, CLOSE = "([", ")]"
HATTED = rf"hat\s+{SYMBOL.pattern}"  # "hat m_t": the bias-corrected m_t
TOKEN = re.compile(rf"\s*({HATTED}|{SYMBOL.pattern}|{NUMBER.pattern}|{OPERATOR.pattern}|{POWER.pattern}|[()\[\],])")


def _is_math_name(word: str) -> bool:
    """A name that is a symbol, not an English word: one letter, a subscript, a Greek
    letter, a function, or a gradient (dW, da, dh_t)."""
    if word.startswith("hat "):
        return True
    base = re.split(r"[_^~]", word)[0]
    return (word != base or len(base) == 1 or base in GREEK or base in FUNCTIONS or base in NAMES or base == "ŷ"
            or re.fullmatch(r"beta\d|d[A-Za-z]{1,2}", base) is not None)


def _latex_symbol(word: str) -> str:
    if word.startswith("hat "):
        return rf"\hat{{{_latex_symbol(word[4:].strip())}}}"
    power = ""
    if "^" in word:
        word, power = word.split("^", 1)
        power = power.strip("{}")
        power = "^{\\top}" if power == "T" else f"^{{{power}}}"
    tilde = word.endswith("~") or "~_" in word
    word = word.replace("~", "")
    parts = word.split("_")
    base, subs = parts[0], [p.strip("{}()") for p in parts[1:]]
    hat = "hat" in subs
    subs = [s for s in subs if s != "hat"]
    if base == "ŷ":
        base, hat = "y", True
    greek = re.fullmatch(r"(beta)(\d)", base)
    if greek:
        base, subs = GREEK["beta"], [greek.group(2), *subs]
    elif base in GREEK:
        base = GREEK[base]
    elif base in FUNCTIONS:
        base = FUNCTIONS[base]
    elif len(base) > 2 and not re.fullmatch(r"d[A-Za-z]{1,2}", base):
        return rf"\mathrm{{{word.replace('_', chr(92) + '_')}}}" + power  # a name: total_norm
    if hat:
        base = rf"\hat{{{base}}}"
    if tilde:
        base = rf"\tilde{{{base}}}"
    sub = ""
    if subs:
        sub = "_{" + ",".join(rf"\mathrm{{{s}}}" if len(s) > 2 and s.isalpha() else s for s in subs) + "}"
    return base + sub + power


def _latex(tokens: list[str]) -> str:
    out = []
    for tok in tokens:
        if tok == "*" or tok == "⊙":
            out.append(r"\odot")
        elif tok == "<-":
            out.append(r"\leftarrow")
        elif NUMBER.fullmatch(tok):
            mantissa, _, exponent = tok.partition("e")
            out.append(tok if not exponent else (f"10^{{{exponent}}}" if mantissa == "1"
                                                 else f"{mantissa} \\times 10^{{{exponent}}}"))
        elif POWER.fullmatch(tok):
            out.append(f"^{{{tok[1:]}}}")
        elif SYMBOL.fullmatch(tok) or tok.startswith("hat "):
            out.append(_latex_symbol(tok))
        else:
            out.append(tok)
    return " ".join(out)


def _equation_at(text: str, start: int) -> tuple[int, str] | None:
    """(end, LaTeX) of the equation that starts at `start` (a symbol, then ` = `), or None."""
    tokens, pos, depth, last_ok = [], start, 0, None
    m = re.compile(rf"{HATTED}|{SYMBOL.pattern}").match(text, pos)
    if not m or not _is_math_name(m.group(0)):
        return None
    tokens.append(m.group(0))
    pos = m.end()
    eq = re.match(r" = ", text[pos:])
    if not eq:
        return None
    tokens.append("=")
    pos += 3
    while True:
        m = TOKEN.match(text, pos)
        if not m:
            break
        tok = m.group(1)
        if tok == "," and depth == 0:
            break
        if SYMBOL.fullmatch(tok) and not NUMBER.fullmatch(tok) and not _is_math_name(tok):
            break  # an English word: the clause goes on in words
        if tok in OPEN:
            depth += 1
        elif tok in CLOSE:
            if depth == 0:
                break
            depth -= 1
        tokens.append(tok)
        pos = m.end()
        if depth == 0 and not OPERATOR.fullmatch(tok) and tok != ",":
            last_ok = (pos, len(tokens))
    if last_ok is None or last_ok[1] < 3:
        return None
    end, n = last_ok
    following = text[end:end + 2]
    if following and not re.match(r"$|[\s,.;:)]", following[0]):
        return None
    if re.match(r"\s*(?:[-+*/=⊙^]|<-)", text[end:]):
        return None  # the expression goes on past what could be read: leave it all as text
    return end, _latex(tokens[:n])


def typeset(text: str) -> str:
    """`text` with each equation it writes in plain text as inline LaTeX ($...$)."""
    out, pos = [], 0
    for m in re.finditer(r"(?<![\w^~{/])(?=ŷ|[A-Za-z])", text):
        if m.start() < pos:
            continue
        found = _equation_at(text, m.start())
        if found:
            end, latex = found
            out += [text[pos:m.start()], f"${latex}$"]
            pos = end
    return "".join(out) + text[pos:]
