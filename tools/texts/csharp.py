"""Just enough C# lexing to rewrite calls safely: which characters are code, which are inside a
string or char literal, which are comments; matching brackets and top-level commas in code only.

Interpolated strings keep their holes as code, so a call inside $"...{Text.Get("K")}..." is found.
"""

CODE, STRING, COMMENT = 'c', 's', 'm'


def classify(text):
    """One kind per character of text: CODE, STRING (a literal, quotes included) or COMMENT."""
    kinds = [CODE] * len(text)
    n = len(text)

    def mark(a, b, k):
        for i in range(a, b):
            kinds[i] = k

    def string_at(i):
        """If a string or char literal starts at i, its prefix length, verbatim, interpolated, raw quote count."""
        j = i
        dollars = 0
        verbatim = False
        while j < n and text[j] in '$@':
            if text[j] == '$':
                dollars += 1
            else:
                verbatim = True
            j += 1
        if j < n and text[j] == '"':
            q = 0
            while j + q < n and text[j + q] == '"':
                q += 1
            raw = q if q >= 3 and not verbatim else 0
            return j, verbatim, dollars, raw
        return None

    def skip_string(i, stop_at_hole_end=False):
        """Marks the literal starting at i (after any prefix); returns the index after it."""
        info = string_at(i)
        start = i
        j, verbatim, dollars, raw = info
        if raw:
            j += raw
            while j < n:
                if text.startswith('"' * raw, j):
                    j += raw
                    break
                j += 1
            mark(start, j, STRING)
            return j
        j += 1  # opening quote
        mark(start, j, STRING)
        while j < n:
            ch = text[j]
            if ch == '\\' and not verbatim:
                mark(j, min(j + 2, n), STRING)
                j += 2
                continue
            if ch == '"':
                if verbatim and j + 1 < n and text[j + 1] == '"':
                    mark(j, j + 2, STRING)
                    j += 2
                    continue
                mark(j, j + 1, STRING)
                return j + 1
            if dollars and ch == '{':
                if j + 1 < n and text[j + 1] == '{':
                    mark(j, j + 2, STRING)
                    j += 2
                    continue
                kinds[j] = STRING
                j = code(j + 1, hole=True)  # returns index of the closing brace
                if j < n:
                    kinds[j] = STRING
                j += 1
                continue
            if not verbatim and ch == '\n':
                return j  # unterminated: stop at the line's end
            kinds[j] = STRING
            j += 1
        return j

    def code(i, hole=False):
        depth = 0
        while i < n:
            ch = text[i]
            if text.startswith('//', i):
                e = text.find('\n', i)
                e = n if e < 0 else e
                mark(i, e, COMMENT)
                i = e
                continue
            if text.startswith('/*', i):
                e = text.find('*/', i + 2)
                e = n if e < 0 else e + 2
                mark(i, e, COMMENT)
                i = e
                continue
            if ch in '$@"' and string_at(i) is not None:
                i = skip_string(i)
                continue
            if ch == "'":
                j = i + 1
                while j < n and text[j] != "'" and text[j] != '\n':
                    j += 2 if text[j] == '\\' else 1
                mark(i, min(j + 1, n), STRING)
                i = j + 1
                continue
            if hole:
                if ch in '([{':
                    depth += 1
                elif ch in ')]}':
                    if depth == 0 and ch == '}':
                        return i
                    depth -= 1
            i += 1
        return i

    code(0)
    return kinds


def masked(text, kinds):
    """The text with comments and literal contents blanked (newlines kept): for searching code only."""
    return ''.join(c if k == CODE or c == '\n' else ' ' for c, k in zip(text, kinds))


def closing(text, kinds, open_at):
    """Index of the bracket closing the one at open_at, counting code characters only; -1 if none."""
    pairs = {'(': ')', '[': ']', '{': '}'}
    stack = []
    for i in range(open_at, len(text)):
        if kinds[i] != CODE:
            continue
        ch = text[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in ')]}':
            if not stack or stack.pop() != ch:
                return -1
            if not stack:
                return i
    return -1


def split_args(text, kinds, open_at, close_at):
    """The (start, end) spans of the top-level arguments between the brackets at open_at and close_at."""
    spans = []
    depth = 0
    start = open_at + 1
    for i in range(open_at + 1, close_at):
        if kinds[i] != CODE:
            continue
        ch = text[i]
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif ch == ',' and depth == 0:
            spans.append((start, i))
            start = i + 1
    if text[start:close_at].strip() or spans:
        spans.append((start, close_at))
    return spans


def line_of(text, offset):
    return text.count('\n', 0, offset) + 1
